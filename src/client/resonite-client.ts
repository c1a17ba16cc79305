/**
 * A WebSocket client that behaves like Resonite's WebsocketClient, for testing
 * servers without the game: text only, drops the connection after 60 s with
 * no traffic from the server, reconnects every `retrySeconds` like
 * ConnectRetryInterval, and treats a binary frame as the incompatibility it is.
 */
import WebSocket from 'ws';
import { bodySummary } from '../util/body-summary.js';
import { within } from '../util/timeout.js';
import { websocketUrlFor } from '../util/ws-url.js';

export type ClientEvent =
  | { type: 'connecting'; url: string }
  | { type: 'open' }
  | { type: 'message'; text: string }
  | { type: 'sent'; text: string }
  | { type: 'binary'; bytes: number }
  | { type: 'ping' }
  | { type: 'close'; code: number; reason: string }
  | { type: 'idle'; ms: number }
  | { type: 'error'; message: string }
  | { type: 'retry'; seconds: number };

export interface ResoniteClientOptions {
  /** Reconnect this many seconds after a disconnect or failed attempt; off when undefined. */
  retrySeconds?: number;
  /** Drop the connection after this long without traffic from the server (Resonite: 60 s). */
  idleTimeoutMs?: number;
  /** Longest a connection attempt may take. */
  handshakeTimeoutMs?: number;
  /** Every event, for logging. */
  onEvent?: (event: ClientEvent) => void;
}

export interface ResoniteClient {
  readonly url: string;
  readonly connected: boolean;
  /** Binary frames the server sent: Resonite cannot receive these. */
  readonly binaryFrames: number;
  /** Resolves once connected (now, if already); rejects if an attempt fails and there is no retry. */
  opened(): Promise<void>;
  /** The next text message received, in order. Rejects after `timeoutMs`, or if the client is closed. */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves with the close code and reason the next time the connection closes. */
  disconnected(): Promise<{ code: number; reason: string }>;
  /** Sends text. Resonite can only send text, so anything else throws. */
  send(text: string): void;
  /** Closes for good (no more retries). */
  close(): Promise<void>;
}

/** A URL Resonite's WebsocketClient would not take: thrown by createResoniteClient, as .NET's ClientWebSocket throws. */
export class ClientUrlError extends Error {
  override name = 'ClientUrlError';
}

/**
 * Refuses what Resonite's client refuses: anything but ws:// and wss://. (ws, the
 * library, would quietly take http:// and connect, so a test would pass that a world fails.)
 */
function checkUrl(url: string): void {
  if (/^wss?:\/\//i.test(url)) return;
  const meant = websocketUrlFor(url);
  throw new ClientUrlError(
    `Only Uris starting with 'ws://' or 'wss://' are supported (Resonite's WebsocketClient refuses ${url} the same way). ` +
      (meant ? `Use ${meant}` : 'Write the URL with ws:// (or wss:// for TLS), e.g. ws://localhost:8778/echo'),
  );
}

/** Longest part of a refusal's body that is read and shown. */
const REFUSAL_CHARS = 500;

export function createResoniteClient(url: string, options: ResoniteClientOptions = {}): ResoniteClient {
  checkUrl(url);
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const emit = options.onEvent ?? (() => {});
  const queue: string[] = [];
  const waiters = new Set<() => void>();
  let socket: WebSocket | undefined;
  let connected = false;
  let closedForGood = false;
  let binaryFrames = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let openWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  let lastError = 'the connection failed';
  let closeWaiters: ((info: { code: number; reason: string }) => void)[] = [];
  const wake = () => {
    for (const waiter of waiters) waiter();
  };

  const resetIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      emit({ type: 'idle', ms: idleTimeoutMs });
      socket?.terminate();
    }, idleTimeoutMs);
  };

  const connect = () => {
    emit({ type: 'connecting', url });
    const ws = new WebSocket(url, { handshakeTimeout: options.handshakeTimeoutMs ?? 10_000, perMessageDeflate: false });
    socket = ws;
    ws.on('open', () => {
      connected = true;
      resetIdle();
      emit({ type: 'open' });
      for (const waiter of openWaiters) waiter.resolve();
      openWaiters = [];
    });
    ws.on('message', (data, isBinary) => {
      resetIdle();
      if (isBinary) {
        binaryFrames++;
        emit({ type: 'binary', bytes: (data as Buffer).length });
        return;
      }
      const text = String(data);
      queue.push(text);
      emit({ type: 'message', text });
      wake();
    });
    ws.on('ping', () => {
      resetIdle();
      emit({ type: 'ping' });
    });
    let refused = false;
    // A refused handshake: the server's explanation is in the response body (Resonite never shows it).
    ws.on('unexpected-response', (_request, response) => {
      refused = true;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < REFUSAL_CHARS * 2) body += chunk;
      });
      const done = () => {
        clearTimeout(timer);
        const said = bodySummary(body, REFUSAL_CHARS);
        lastError = `the server refused the connection with HTTP ${response.statusCode ?? 0}${said ? `: ${said}` : ''}`;
        emit({ type: 'error', message: lastError });
        ws.terminate();
      };
      const timer = setTimeout(done, options.handshakeTimeoutMs ?? 10_000);
      response.once('end', done);
      response.once('error', done);
    });
    ws.on('error', (error) => {
      if (refused) return; // said already, with the server's reason
      lastError = error.message;
      emit({ type: 'error', message: error.message });
    });
    ws.on('close', (code, reason) => {
      const wasConnected = connected;
      connected = false;
      clearTimeout(idleTimer);
      if (wasConnected) {
        const info = { code, reason: reason.toString() };
        emit({ type: 'close', ...info });
        for (const resolve of closeWaiters) resolve(info);
        closeWaiters = [];
      }
      wake();
      if (!wasConnected && options.retrySeconds === undefined) {
        for (const waiter of openWaiters) waiter.reject(new Error(lastError));
        openWaiters = [];
      }
      if (!closedForGood && options.retrySeconds !== undefined) {
        emit({ type: 'retry', seconds: options.retrySeconds });
        retryTimer = setTimeout(connect, options.retrySeconds * 1000);
      }
    });
  };
  connect();

  return {
    url,
    get connected() {
      return connected;
    },
    get binaryFrames() {
      return binaryFrames;
    },
    opened() {
      if (connected) return Promise.resolve();
      if (socket?.readyState === WebSocket.CLOSED && options.retrySeconds === undefined) return Promise.reject(new Error(lastError));
      return new Promise((resolve, reject) => openWaiters.push({ resolve, reject }));
    },
    disconnected() {
      return new Promise((resolve) => closeWaiters.push(resolve));
    },
    async next(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (closedForGood) throw new Error('the client is closed');
        if (!connected && options.retrySeconds === undefined && socket?.readyState === WebSocket.CLOSED) {
          throw new Error('the connection is closed');
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, left);
          waiters.add(done);
        });
      }
      return queue.shift() as string;
    },
    send(text) {
      if (typeof text !== 'string') throw new TypeError('Resonite can only send text messages');
      if (!connected || !socket) throw new Error('not connected');
      socket.send(text);
      emit({ type: 'sent', text });
    },
    async close() {
      closedForGood = true;
      clearTimeout(retryTimer);
      clearTimeout(idleTimer);
      wake();
      if (!socket || socket.readyState === WebSocket.CLOSED) return;
      const ws = socket;
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
      // A server that never answers the close frame does not keep us waiting.
      if (!(await within(closed.then(() => true), 1_000, false))) ws.terminate();
      await closed;
    },
  };
}
