/**
 * A local app with a WebSocket API, for the `websocket` bridge's tests: it
 * echoes every text message back (unless told otherwise), and records what
 * the bridge did: connections, upgrade headers, messages and pings received.
 * It can stop and start again on the same port (an app that restarts).
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';

export interface AppOptions {
  /** Echo each text message back (default true). */
  echo?: boolean;
  /** Answer pings (default true); false: a frozen app. */
  autoPong?: boolean;
  /** Close every connection at once with this code (an app that refuses the client). */
  closeWith?: number;
}

export class WebSocketApp {
  /** Connections accepted, over every start. */
  connections = 0;
  readonly headers: IncomingHttpHeaders[] = [];
  /** The request path and query of each connection. */
  readonly paths: string[] = [];
  readonly protocols: string[] = [];
  /** Text messages received, in order, over every connection. */
  readonly received: string[] = [];
  pings = 0;
  private server: WebSocketServer | undefined;
  private waiters: (() => void)[] = [];

  private constructor(
    public port: number,
    private readonly options: AppOptions,
  ) {}

  static async start(t: TestContext, options: AppOptions = {}): Promise<WebSocketApp> {
    const app = new WebSocketApp(0, options);
    await app.listen();
    t.after(() => app.stop());
    return app;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The clients connected now. */
  get clients(): WebSocket[] {
    return [...(this.server?.clients ?? [])];
  }

  async listen(): Promise<void> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: this.port, autoPong: this.options.autoPong ?? true });
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    server.on('connection', (socket, request) => {
      this.connections++;
      this.headers.push(request.headers);
      this.paths.push(request.url ?? '');
      this.protocols.push(socket.protocol);
      socket.on('error', () => {});
      socket.on('ping', () => {
        this.pings++;
        this.notify();
      });
      socket.on('message', (data, isBinary) => {
        const text = String(data);
        this.received.push(text);
        if ((this.options.echo ?? true) && !isBinary) socket.send(text);
        this.notify();
      });
      if (this.options.closeWith) socket.close(this.options.closeWith, 'go away');
      this.notify();
    });
  }

  /** Stops, cutting every connection (as a crash or restart would). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Sends text to every connected client. */
  broadcast(text: string): void {
    for (const client of this.clients) client.send(text);
  }

  /** Waits (bounded) until `check` holds; checked on every event and every 50 ms. */
  async until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`the app never saw: ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
