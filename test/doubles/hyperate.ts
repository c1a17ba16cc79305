/**
 * A HypeRate double (github.com/HypeRate/DevDocs): a Phoenix socket at
 * `/socket/websocket?token=KEY`. A client joins `hr:<ID>` with `phx_join`
 * (answered with a `phx_reply`, status ok, as Phoenix does), must send
 * `{"topic":"phoenix","event":"heartbeat",…}` in time or the server closes the
 * socket (every 10 s for the real one; `heartbeatTimeoutMs` here, so a test
 * does not wait), and receives `{"event":"hr_update","payload":{"hr":79},"ref":null,"topic":"hr:<ID>"}`.
 * A key Phoenix's connect refuses gets HTTP 403 on the upgrade (Phoenix's
 * transport answers a refused connect so).
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';

interface PhoenixMessage {
  topic?: string;
  event?: string;
  payload?: unknown;
  ref?: string | number | null;
}

export interface HypeRateSession {
  socket: WebSocket;
  received: PhoenixMessage[];
  topics: Set<string>;
  heartbeats: number;
  /** Closed by the double for want of a heartbeat. */
  timedOut: boolean;
}

export class HypeRateDouble {
  readonly sessions: HypeRateSession[] = [];

  private constructor(
    readonly url: string,
    private readonly seen: { attempts: number },
  ) {}

  /** Every connection attempt that reached the server (accepted or not). */
  get attempts(): number {
    return this.seen.attempts;
  }

  static async start(t: TestContext, key: string, heartbeatTimeoutMs = 30_000): Promise<HypeRateDouble> {
    const seen = { attempts: 0 };
    const server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
        seen.attempts++;
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname !== '/socket/websocket') return done(false, 404, 'Not Found');
        if (url.searchParams.get('token') !== key) return done(false, 403, 'Forbidden');
        done(true);
      },
    });
    await once(server, 'listening');
    const made = new HypeRateDouble(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/socket/websocket`, seen);
    server.on('connection', (socket) => made.accept(socket, heartbeatTimeoutMs));
    t.after(async () => {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });
    return made;
  }

  /** A reading for device `id`, to every open session that joined it. */
  beat(id: string, hr: number): void {
    const text = JSON.stringify({ event: 'hr_update', payload: { hr }, ref: null, topic: `hr:${id}` });
    for (const session of this.sessions) {
      if (session.topics.has(`hr:${id}`) && session.socket.readyState === WebSocket.OPEN) session.socket.send(text);
    }
  }

  private accept(socket: WebSocket, heartbeatTimeoutMs: number): void {
    const session: HypeRateSession = { socket, received: [], topics: new Set(), heartbeats: 0, timedOut: false };
    this.sessions.push(session);
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        session.timedOut = true;
        socket.close(1000);
      }, heartbeatTimeoutMs);
    };
    arm();
    socket.on('close', () => clearTimeout(timer));
    const reply = (message: PhoenixMessage) =>
      socket.send(JSON.stringify({ topic: message.topic, event: 'phx_reply', payload: { status: 'ok', response: {} }, ref: message.ref ?? null }));
    socket.on('message', (data) => {
      let message: PhoenixMessage;
      try {
        message = JSON.parse(String(data)) as PhoenixMessage;
      } catch {
        socket.close(1003);
        return;
      }
      session.received.push(message);
      if (message.topic === 'phoenix' && message.event === 'heartbeat') {
        session.heartbeats++;
        arm();
        reply(message);
      } else if (message.event === 'phx_join' && typeof message.topic === 'string') {
        session.topics.add(message.topic);
        reply(message);
      } else if (message.event === 'phx_leave' && typeof message.topic === 'string') {
        session.topics.delete(message.topic);
        reply(message);
      }
    });
  }
}
