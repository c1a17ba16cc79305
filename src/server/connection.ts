/**
 * One client connection. This is the only place in resobridge that sends to a
 * client, and `send` takes a string or a TextFrame (made only from a string)
 * and always sends a text frame, so a binary frame can never go out:
 * Resonite can only receive text.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Grant } from '../auth/access.js';
import type { Encoding, Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { TextFrame } from '../protocol/text-frame.js';
import { redactPath } from '../util/redact-url.js';
import { Pacer, type Delivery, type PacerOptions } from './pacer.js';
import type { RecentMessages } from './recent-messages.js';

/** Close codes used by the server (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

export interface ConnectionInfo {
  /** URL path the client connected to, e.g. `/channel/lobby` (any token in it redacted). */
  path: string;
  /** The endpoint that serves it, as its path is written, e.g. `/channel/<name>`. */
  endpoint: string;
  query: URLSearchParams;
  remoteAddress: string;
}

export interface ConnectionOptions {
  closeLingerMs: number;
  pacing: PacerOptions;
  /** Past this many bytes waiting in the socket, droppable messages are held back or dropped. */
  maxBufferedBytes: number;
}

const STALLED_REASON = 'too slow: the client stopped reading';
/** A client whose socket holds this many times maxBufferedBytes has stopped reading: it is closed. */
const HARD_BUFFER_FACTOR = 8;
/** Longest wait for a client to answer our close frame before the socket is cut. */
const CLOSE_HANDSHAKE_MS = 5_000;

export class Connection {
  /** Short random id, unique enough to tell connections apart in logs. */
  readonly id = randomBytes(3).toString('hex');
  readonly connectedAt = Date.now();
  readonly path: string;
  /** The path as logs and the dashboard show it (redactPath: no token, however it was typed). */
  readonly shownPath: string;
  readonly endpoint: string;
  readonly query: URLSearchParams;
  readonly remoteAddress: string;
  /** Display name: `?name=` or a generated one. */
  name: string;
  /** What this client's token allows. */
  grant: Grant = { name: 'anonymous', scopes: 'all' };
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** How this client reads server messages: lines (worlds) or JSON (apps that asked for `?format=json`). */
  encoding: Encoding = 'line';
  /** Pings sent since the client last showed it is alive. */
  missedPongs = 0;
  /** The last messages both ways, kept while the dashboard is on. */
  recent: RecentMessages | undefined;
  /** Why the server closed (or cut) this connection, for the log; undefined if the client left. */
  closedByServer: { code: number; reason: string } | undefined;
  /** Resolves when the socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
  private closing = false;

  private pacer: Pacer;

  constructor(
    private readonly socket: WebSocket,
    info: ConnectionInfo,
    private readonly options: ConnectionOptions,
  ) {
    this.path = info.path;
    this.shownPath = redactPath(info.path);
    this.endpoint = info.endpoint;
    this.query = info.query;
    this.remoteAddress = info.remoteAddress;
    this.name = `guest-${this.id}`;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.pacer = this.makePacer(options.pacing);
  }

  /** Changes this connection's outbound pacing (e.g. from `?rate=`). */
  pace(pacing: PacerOptions): void {
    this.pacer.stop();
    this.pacer = this.makePacer(pacing);
  }

  /** Messages dropped because this client could not keep up. */
  get dropped(): number {
    return this.pacer.droppedTotal;
  }

  /** Messages waiting for the pacer. */
  get queued(): number {
    return this.pacer.queued;
  }

  private makePacer(pacing: PacerOptions): Pacer {
    return new Pacer(
      pacing,
      (frame) => this.write(frame),
      () => this.socket.bufferedAmount > this.options.maxBufferedBytes,
      (count) => messages.dropped(count).frame(this.encoding),
      () => void this.close(CloseCode.policyViolation, STALLED_REASON),
    );
  }

  /** True until the server has started to close this connection, or the client left. */
  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Sends one text message, paced (see Pacer). `delivery` says what may happen
   * to it if the client cannot keep up. Returns false if the connection is closing.
   */
  send(text: string | TextFrame, delivery: Delivery = 'reply'): boolean {
    if (typeof text !== 'string' && !(text instanceof TextFrame)) {
      throw new TypeError('Connection.send takes text only: Resonite cannot receive binary');
    }
    if (!this.isOpen) return false;
    this.pacer.push(text, delivery);
    return true;
  }

  /** Sends a server message in this client's encoding. */
  sendMessage(message: Message, delivery: Delivery = 'reply'): boolean {
    return this.send(message.frame(this.encoding), delivery);
  }

  /** The one place that writes to the socket: always a text frame. */
  private write(frame: string | TextFrame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes * HARD_BUFFER_FACTOR) {
      void this.close(CloseCode.policyViolation, STALLED_REASON);
      return;
    }
    this.socket.send(typeof frame === 'string' ? frame : frame.bytes, { binary: false });
    this.recent?.add('out', frame);
    this.messagesOut++;
    this.bytesOut += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.bytes.length;
  }

  /**
   * Closes on purpose: sends `finalMessage` (if any), waits closeLingerMs so a
   * Resonite client actually receives it, then sends the close frame.
   * Resolves when the close frame is on its way.
   */
  close(code: number, reason: string, finalMessage?: Message): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.closedByServer ??= { code, reason };
    // The final message skips the queue: it is the last thing this client gets.
    if (finalMessage) this.write(finalMessage.frame(this.encoding));
    this.closing = true;
    this.pacer.stop();
    return new Promise((resolve) => {
      setTimeout(() => {
        if (this.socket.readyState === this.socket.OPEN) {
          this.socket.close(code, truncateReason(reason));
          // A client that never answers the close frame is cut, so its memory is freed.
          setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
        }
        resolve();
      }, this.options.closeLingerMs);
    });
  }

  /** Drops the connection at once, without a close handshake (for clients that stopped answering); `reason` goes to the log. */
  terminate(reason: string): void {
    if (this.socket.readyState !== this.socket.CLOSED) this.closedByServer ??= { code: 1006, reason };
    this.closing = true;
    this.pacer.stop();
    this.socket.terminate();
  }

  /** Any sign of life (a pong or a message) resets the missed-pong count. */
  markAlive(): void {
    this.missedPongs = 0;
  }

  /** Sends a protocol ping; it never reaches the world's logic but keeps the connection from idling out. */
  ping(): void {
    if (this.isOpen) this.socket.ping();
  }
}

/** A close reason must fit in 123 bytes of UTF-8. */
function truncateReason(reason: string): string {
  let result = reason;
  while (Buffer.byteLength(result) > 123) result = result.slice(0, -1);
  return result;
}
