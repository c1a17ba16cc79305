/**
 * One connection to Home Assistant's WebSocket API
 * (developers.home-assistant.io/docs/api/websocket):
 *   server {"type":"auth_required"} → client {"type":"auth","access_token":…}
 *   → server auth_ok, or auth_invalid and then it disconnects;
 *   after that every client message has an integer `id`, strictly increasing
 *   on this connection (HA answers a repeated or lower one with the error
 *   `id_reuse`), and HA's `result`, `event` and `pong` carry the id they answer.
 * This class does that and nothing else: it ends (once) with the reason and
 * whether retrying could help; the bridge decides what to do next.
 */
import WebSocket from 'ws';
import { clip } from '../protocol/clip.js';
import type { Secret } from './secret.js';

/** From opening the socket to auth_ok: HA itself gives a client 10 s to authenticate. */
export const AUTH_TIMEOUT_MS = 10_000;
/** How long a command may wait for its result. */
export const COMMAND_TIMEOUT_MS = 10_000;
/** Commands waiting for their result at once; past it a command is refused at once. */
export const MAX_IN_FLIGHT = 100;
/** Longest error message of HA's passed on. */
export const MAX_ERROR_CHARS = 500;
/** Largest message taken from HA (get_states of a big installation is a few MB). */
export const MAX_HA_MESSAGE_BYTES = 32 * 1024 * 1024;

/** An error result: HA's code (not_found, invalid_format, …) and message, or ours for a timeout. */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SessionHandlers {
  /** auth_ok: commands may be sent. */
  ready(version: string): void;
  /** An `event` message for subscription `id`. */
  event(id: number, event: unknown): void;
  /** The connection is over; `fatal` when retrying cannot help (the token was refused). Called once. */
  ended(why: string, fatal: boolean): void;
}

interface Waiting {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class HomeAssistantSession {
  /** The last id sent: each message takes the next one. */
  private lastId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private readonly socket: WebSocket;
  private authenticated = false;
  private over = false;
  private readonly authTimer: NodeJS.Timeout;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;

  constructor(
    private readonly url: string,
    token: Secret,
    private readonly pingMs: number,
    private readonly handlers: SessionHandlers,
  ) {
    this.socket = new WebSocket(url, { handshakeTimeout: AUTH_TIMEOUT_MS, maxPayload: MAX_HA_MESSAGE_BYTES, perMessageDeflate: false });
    this.authTimer = setTimeout(() => this.end(`no answer to the login within ${AUTH_TIMEOUT_MS / 1000} s`, false), AUTH_TIMEOUT_MS);
    this.socket.on('message', (data, isBinary) => {
      if (isBinary) return this.end('Home Assistant sent a binary message; is this its WebSocket API?', false);
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        return this.end('Home Assistant sent something that is not JSON; is this its WebSocket API?', false);
      }
      // A server that coalesces sends a list of messages (only after the client asks for it; taken anyway).
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        if (this.over) return;
        if (typeof message === 'object' && message !== null) this.receive(message as Record<string, unknown>, token);
      }
    });
    this.socket.on('unexpected-response', (_request, response) => {
      this.end(`${url} answered HTTP ${response.statusCode ?? '?'}, not a WebSocket; is this Home Assistant's address? (its WebSocket API is at /api/websocket)`, false);
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.end(`cannot reach ${url} (${error.code ?? error.message})`, false));
    this.socket.on('close', (code) => this.end(`Home Assistant closed the connection (code ${code})`, false));
  }

  /** Sends a command with the next id; resolves with its `result`, rejects with a CommandError. */
  command(message: Record<string, unknown>): Promise<unknown> {
    if (!this.authenticated || this.over) return Promise.reject(new CommandError('not_connected', 'Home Assistant is not connected'));
    if (this.waiting.size >= MAX_IN_FLIGHT) {
      return Promise.reject(new CommandError('busy', `${MAX_IN_FLIGHT} commands are already waiting for Home Assistant; try again when they are answered`));
    }
    const id = this.send(message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new CommandError('timeout', `Home Assistant did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`));
      }, COMMAND_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  /** Closes the connection; `ended` is not called. */
  close(): void {
    this.over = true;
    this.cleanUp('the bridge stopped');
    this.socket.terminate();
  }

  private send(message: Record<string, unknown>): number {
    const id = ++this.lastId;
    this.socket.send(JSON.stringify({ id, ...message }));
    return id;
  }

  private receive(message: Record<string, unknown>, token: Secret): void {
    switch (message.type) {
      case 'auth_required':
        this.socket.send(JSON.stringify({ type: 'auth', access_token: token.reveal() }));
        return;
      case 'auth_ok':
        clearTimeout(this.authTimer);
        this.authenticated = true;
        this.startPings();
        this.handlers.ready(typeof message.ha_version === 'string' ? message.ha_version : 'unknown version');
        return;
      case 'auth_invalid': {
        const said = typeof message.message === 'string' ? `: "${clip(message.message, MAX_ERROR_CHARS)}"` : '';
        this.end(`Home Assistant refused the token (auth_invalid${said})`, true);
        return;
      }
      case 'result':
        this.settle(message);
        return;
      case 'event':
        if (typeof message.id === 'number') this.handlers.event(message.id, message.event);
        return;
      case 'pong':
        this.awaitingPong = false;
        return;
    }
  }

  private settle(message: Record<string, unknown>): void {
    const waiting = typeof message.id === 'number' ? this.waiting.get(message.id) : undefined;
    if (!waiting || typeof message.id !== 'number') return;
    this.waiting.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.success === true) return waiting.resolve(message.result);
    const error = (message.error ?? {}) as { code?: unknown; message?: unknown };
    // HA's message goes to worlds: a sentence, not a page.
    const text = typeof error.message === 'string' ? clip(error.message, MAX_ERROR_CHARS) : 'Home Assistant reported an error';
    waiting.reject(new CommandError(clip(String(error.code ?? 'unknown_error')), text));
  }

  /** A ping every pingMs; one still unanswered when the next is due means HA (or the network) is gone. */
  private startPings(): void {
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) return this.end(`Home Assistant stopped answering pings (none within ${this.pingMs / 1000} s)`, false);
      this.awaitingPong = true;
      this.send({ type: 'ping' });
    }, this.pingMs);
  }

  private end(why: string, fatal: boolean): void {
    if (this.over) return;
    this.over = true;
    this.cleanUp(why);
    this.socket.terminate();
    this.handlers.ended(why, fatal);
  }

  private cleanUp(why: string): void {
    clearTimeout(this.authTimer);
    clearInterval(this.pingTimer);
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new CommandError('not_connected', `the connection to Home Assistant ended (${why})`));
    }
    this.waiting.clear();
  }
}
