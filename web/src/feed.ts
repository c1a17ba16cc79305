/**
 * The page's one connection to the server: `/dashboard/ws`. It reconnects by
 * itself (with a growing pause), sends the admin token when the server asks,
 * and matches replies to requests. Views read its fields and re-render on `changed`.
 */
import type { Hello, LogEntry, PageRequest, ServerMessage, State } from '../../src/dashboard/wire.js';

export type FeedStatus = 'connecting' | 'live' | 'needs-token' | 'offline';
export type Action = Exclude<PageRequest, { type: 'auth' } | { type: 'view' }>;
type ActionInput = Action extends infer A ? (A extends Action ? Omit<A, 'id'> : never) : never;
export type View = Omit<Extract<PageRequest, { type: 'view' }>, 'type'>;

const TOKEN_KEY = 'resobridge.dashboardToken';
const MAX_RETRY_MS = 10_000;

export class Feed {
  status: FeedStatus = 'connecting';
  hello: Hello | undefined;
  state: State | undefined;
  /** Why the last token was refused, if it was. */
  authReason: string | undefined;
  /** The newest entries, up to hello.logLimit. */
  log: LogEntry[] = [];
  /** Entries the server left out because they came too fast. */
  logSkipped = 0;
  view: View = { offset: 0, limit: 100, filter: '', selected: null };

  private ws: WebSocket | undefined;
  private retryMs = 500;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(data: unknown): void; reject(error: Error): void }>();
  private readonly listeners = new Set<() => void>();

  start(): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/dashboard/ws`);
    this.ws = ws;
    this.status = this.status === 'needs-token' ? 'needs-token' : 'connecting';
    ws.onmessage = (event) => this.received(JSON.parse(String(event.data)) as ServerMessage);
    ws.onclose = () => {
      this.ws = undefined;
      if (this.status !== 'needs-token') this.status = 'offline';
      for (const { reject } of this.pending.values()) reject(new Error('the connection to the server was lost'));
      this.pending.clear();
      this.changed();
      this.retry = setTimeout(() => this.start(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  authenticate(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    if (this.ws) return this.send({ type: 'auth', token });
    // The server closes a socket that waits more than a few seconds for the token: connect again now, it is sent when asked for.
    clearTimeout(this.retry);
    this.retryMs = 500;
    this.start();
  }

  setView(view: Partial<View>): void {
    this.view = { ...this.view, ...view };
    if (this.status === 'live') this.send({ type: 'view', ...this.view });
    this.changed();
  }

  /** Asks the server to do something; resolves with its answer, rejects with its error text. */
  request(action: ActionInput): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.ws || this.status !== 'live') return reject(new Error('not connected to the server'));
      this.pending.set(id, { resolve, reject });
      this.send({ ...action, id } as PageRequest);
    });
  }

  clearLog(): void {
    this.log = [];
    this.logSkipped = 0;
    this.changed();
  }

  private received(message: ServerMessage): void {
    switch (message.type) {
      case 'auth-required': {
        const stored = sessionStorage.getItem(TOKEN_KEY);
        if (message.reason) sessionStorage.removeItem(TOKEN_KEY);
        this.status = 'needs-token';
        this.authReason = message.reason;
        if (stored && !message.reason) this.send({ type: 'auth', token: stored });
        break;
      }
      case 'hello':
        this.hello = message;
        this.status = 'live';
        this.authReason = undefined;
        this.retryMs = 500;
        this.send({ type: 'view', ...this.view });
        break;
      case 'state':
        this.state = message;
        break;
      case 'log': {
        const limit = this.hello?.logLimit ?? 2_000;
        this.log = this.log.concat(message.entries);
        if (this.log.length > limit) this.log = this.log.slice(-limit);
        this.logSkipped += message.skipped;
        break;
      }
      case 'reply': {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.ok) waiting?.resolve(message.data);
        else waiting?.reject(new Error(message.error ?? 'failed'));
        break;
      }
    }
    this.changed();
  }

  private send(request: PageRequest): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(request));
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
