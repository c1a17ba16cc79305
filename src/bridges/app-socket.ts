/**
 * A WebSocket connection to an app (OBS, Home Assistant, any JSON API) that
 * stays up: it reconnects with backoff (1 s, doubling to 30 s), sends the
 * app's handshake each time it opens, checks the app is alive (WebSocket
 * pings, and/or an app-level message every N s), and stops for good on a
 * close code that means "don't retry" (a wrong password, being kicked).
 * It shows how it is doing on the bridge's StatusBoard:
 *   connecting (the first attempt) → connected → retrying (why) … → failed (what to do)
 * The generic `websocket` bridge is built on it; connectors can be too.
 */
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { ThrottledLog } from '../log/throttled.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import type { StatusBoard } from './bridge.js';
import type { Secret } from './secret.js';

/** A connection that stayed up this long was a real one: the next failure retries after 1 s again. */
const STABLE_MS = 10_000;
/** An app that accepts TCP but never finishes the WebSocket handshake is given up on after this. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Bytes waiting to go to the app; past it (an app that stopped reading) what the world sends is dropped. */
export const MAX_APP_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long stop() waits for the close handshake before cutting the connection. */
const CLOSE_WAIT_MS = 1_000;

export interface AppSocketOptions {
  /** The bridge's name, in logs. */
  name: string;
  url: string;
  /** Header values are revealed only here, when connecting. */
  headers?: Record<string, Secret>;
  /** Query parameters added to the URL when connecting (tokens: Pulsoid's access_token, HypeRate's token). */
  query?: Record<string, Secret>;
  subprotocol?: string;
  /** Sent in order every time the connection opens (the app's handshake). */
  handshake?: readonly string[];
  /** WebSocket ping every this many ms; no pong (nor any message) before the next one: the app is gone. 0: none. */
  pingMs?: number;
  /** An app-level keepalive: `text` every `everyMs` while connected. */
  keepalive?: { everyMs: number; text: string };
  /** Close codes that mean "don't retry": the socket then stays closed, in state 'failed'. */
  noRetryCodes: readonly number[];
  /** Larger messages from the app are dropped (with a log line); 4 × this closes the connection (1009) unread. */
  maxMessageBytes: number;
  log: Logger;
  board: StatusBoard;
  /** What the connected status says after the URL (e.g. `↔ channel obs`). */
  describe?: () => string;
  onText(text: string): void;
  onOpen?(): void;
  onClose?(): void;
}

/** An app's URL as logs and status show it: no password, no query (tokens often ride there, e.g. ?access_token=). */
export function shownUrl(url: string): string {
  const shown = redactUrl(url, 'the app');
  const query = shown.indexOf('?');
  return query < 0 ? shown : `${shown.slice(0, query)}?…`;
}

export class AppSocket {
  private socket: WebSocket | undefined;
  private readonly backoff = new Backoff();
  private readonly throttled: ThrottledLog;
  private readonly where: string;
  private retryTimer: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopped = true;
  private failed = false;
  /** Why the current connection ended, when we know better than its close code. */
  private problem: string | undefined;
  private openedAt = 0;
  private everConnected = false;
  /** Connection attempts so far (for the status). */
  private attempts = 0;

  constructor(private readonly options: AppSocketOptions) {
    this.where = shownUrl(options.url);
    this.throttled = new ThrottledLog(options.log);
  }

  /** True while the app can be sent to. */
  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    this.failed = false;
    this.options.board.set('connecting', `connecting to ${this.where}`);
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.clearTimers();
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'resobridge is stopping');
      else socket.terminate();
      const timer = setTimeout(() => socket.terminate(), CLOSE_WAIT_MS);
      await closed;
      clearTimeout(timer);
    }
    this.options.board.set('stopped', 'stopped');
  }

  /** Sends text to the app; false when it is not connected or has stopped reading (then nothing is sent). */
  send(text: string): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || socket.bufferedAmount > MAX_APP_BUFFERED_BYTES) return false;
    socket.send(text);
    return true;
  }

  /** Stops reading from the app (TCP pushes back) while what it sent is worked through. */
  pause(): void {
    if (this.socket?.readyState === WebSocket.OPEN && !this.socket.isPaused) this.socket.pause();
  }

  resume(): void {
    if (this.socket?.isPaused) this.socket.resume();
  }

  /** Gives up for good (e.g. the app refused the credentials in a message rather than a close code). */
  fail(detail: string): void {
    this.failed = true;
    this.options.board.set('failed', detail);
    this.options.log.error({ bridge: this.options.name, app: this.where }, `${this.options.name}: ${detail}`);
    this.socket?.close(1000);
  }

  private connect(): void {
    if (this.stopped) return;
    this.attempts++;
    this.problem = undefined;
    const headers = Object.fromEntries(Object.entries(this.options.headers ?? {}).map(([name, value]) => [name, value.reveal()]));
    let url: URL | undefined;
    let socket: WebSocket;
    try {
      url = new URL(this.options.url);
      for (const [name, value] of Object.entries(this.options.query ?? {})) url.searchParams.set(name, value.reveal());
      socket = new WebSocket(url, this.options.subprotocol ? [this.options.subprotocol] : [], {
        headers,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        maxPayload: this.options.maxMessageBytes * 4,
        perMessageDeflate: false,
        followRedirects: false,
      });
    } catch (error) {
      // A URL or header the HTTP client refuses: retrying cannot fix it. The message may quote the URL: it is replaced.
      const message = url ? (error as Error).message.split(url.toString()).join(this.where) : (error as Error).message;
      this.fail(`cannot connect to ${this.where}: ${message}. Fix the url or headers and restart.`);
      return;
    }
    this.socket = socket;
    socket.on('open', () => this.opened(socket));
    socket.on('message', (data, isBinary) => this.received(data as Buffer, isBinary));
    socket.on('error', (error) => {
      this.problem ??= describeError(error, this.where);
    });
    socket.on('close', (code, reason) => this.closed(socket, code, reason.toString()));
  }

  private opened(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.openedAt = Date.now();
    const again = this.everConnected;
    this.everConnected = true;
    const describe = this.options.describe?.();
    this.options.board.set('connected', describe ? `${this.where}: ${describe}` : this.where);
    this.options.log.info({ bridge: this.options.name, app: this.where, again }, again ? 'app connected again' : 'app connected');
    for (const text of this.options.handshake ?? []) socket.send(text);
    this.keepAlive(socket);
    this.options.onOpen?.();
  }

  private keepAlive(socket: WebSocket): void {
    const { pingMs, keepalive } = this.options;
    if (pingMs) {
      let answered = true;
      const alive = () => (answered = true);
      socket.on('pong', alive);
      socket.on('message', alive);
      this.timers.push(
        setInterval(() => {
          if (!answered) {
            this.problem = `the app did not answer a ping within ${pingMs / 1000} s`;
            socket.terminate();
            return;
          }
          answered = false;
          socket.ping();
        }, pingMs),
      );
    }
    if (keepalive) this.timers.push(setInterval(() => this.send(keepalive.text), keepalive.everyMs));
  }

  private received(data: Buffer, isBinary: boolean): void {
    const { name, maxMessageBytes } = this.options;
    if (data.length > maxMessageBytes) {
      this.throttled.warn(`${name}:too-big`, { bridge: name, bytes: data.length, maxMessageBytes }, `the app sent a message over maxMessageBytes (${maxMessageBytes}); dropped (raise maxMessageBytes on the bridge if it is expected)`);
      return;
    }
    if (isBinary && !isUtf8(data)) {
      this.throttled.warn(`${name}:binary`, { bridge: name, bytes: data.length }, 'the app sent a binary message that is not UTF-8 text; dropped (worlds take text only)');
      return;
    }
    this.options.onText(data.toString('utf8'));
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.clearTimers();
    const wasOpen = this.openedAt > 0;
    const upFor = wasOpen ? Date.now() - this.openedAt : 0;
    this.openedAt = 0;
    if (wasOpen) this.options.onClose?.();
    if (this.stopped || this.failed) return;
    const because = reason ? `code ${code}: ${reason}` : `code ${code}`;
    if (wasOpen && this.options.noRetryCodes.includes(code)) {
      this.fail(`${this.where} closed the connection with ${because}, which means "don't retry" (noRetryCodes); fix what the app refused (a password, a token, the handshake), then restart the server`);
      return;
    }
    const why = this.problem ?? (wasOpen ? `${this.where} closed the connection (${because})` : `cannot connect to ${this.where}`);
    if (upFor >= STABLE_MS) this.backoff.reset();
    const delay = this.backoff.next();
    this.options.board.set('retrying', `${why}; trying again in ${delay / 1000} s (attempt ${this.attempts + 1})`);
    this.throttled.warn(`${this.options.name}:retry`, { bridge: this.options.name, app: this.where, why, retryInMs: delay }, 'app connection lost; reconnecting');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}

/** What went wrong, in words, without anything the app or the config could have put a secret in. */
function describeError(error: Error & { code?: string }, where: string): string {
  const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
  if (status) return `${where} answered HTTP ${status} instead of opening a WebSocket (check the url, the headers, a token)`;
  if (error.code === 'ECONNREFUSED') return `${where} refused the connection (is the app running and its WebSocket server on?)`;
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return `${where}: the host name cannot be resolved`;
  if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return `the app sent a message over 4 × maxMessageBytes (the connection was closed unread)`;
  return `${where}: ${error.message}`;
}
