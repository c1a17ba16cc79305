/**
 * One client connection. This is the only place in resobridge that sends to a
 * client, and `send` takes a string or a TextFrame (made only from a string)
 * and always sends a text frame, so a binary frame can never go out:
 * Resonite can only receive text.
 *
 * Messages go on the wire as pre-built frames (TextFrame.wire), written to the
 * client's socket directly and batched per turn (WriteBatch); ws still reads,
 * pings, answers pings and closes. That is safe because ws writes each of its
 * frames to the same socket at once, whole, in call order: it queues only
 * while compressing, and the server turns permessage-deflate off. Should ws
 * ever hold frames back, `write` sees it (its bufferedAmount counts more than
 * the socket holds) and sends through ws instead, behind them. The frame tests
 * (test/wire-frames.test.ts) read the wire byte by byte.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ANONYMOUS, type Grant } from '../auth/access.js';
import type { Encoding, Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { TextFrame } from '../protocol/text-frame.js';
import { redactPath } from '../util/redact-url.js';
import { Pacer, type Delivery, type PacerOptions } from './pacer.js';
import { ReadPause } from './read-pause.js';
import type { RecentMessages } from './recent-messages.js';
import { shortId } from './short-id.js';
import { FLUSH_AT_BYTES, WriteBatch } from './write-batch.js';

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
  /** The query string, without `?`. */
  search: string;
  remoteAddress: string;
}

/** The same for every connection of a server: made once, shared. */
export interface ConnectionOptions {
  closeLingerMs: number;
  /** Past this many bytes waiting in the socket, droppable messages are held back or dropped. */
  maxBufferedBytes: number;
  /**
   * Bytes that may wait for this client (pacer queue and socket buffer, replies included).
   * Past it, channel messages are dropped and reading from the client stops (TCP pushes back);
   * past twice this, or over it with a full socket (not reading) for stallTimeoutMs, the client is closed.
   */
  maxQueuedBytes: number;
  stallTimeoutMs: number;
  /** Where a close for not reading is logged. */
  log?: Logger;
}

/** The reason reading is held while too many bytes wait for this client (see ReadPause). */
const OUTBOUND_PAUSE = 'outbound';
const STALLED_REASON = 'too slow: the client stopped reading';
/** How often a client held for not reading is looked at again. */
const STALL_CHECK_MS = 100;
/**
 * Longest wait for a client to answer our close frame before the socket is cut.
 * .NET's ClientWebSocket (Resonite's) reports the close to its owner but never
 * answers it by itself, so waiting longer only delays a shutdown: the close frame
 * has been sent after its linger, and a client that will answer does so within a
 * round trip.
 */
export const CLOSE_HANDSHAKE_MS = 1_000;

/** How a connection ended, for the log. */
export interface CloseDetails {
  /** The code the connection closed with: the one the server sent, when the server closed it. */
  code: number;
  reason?: string;
  closedBy: 'server' | 'client';
  /** Only when the server closed: false if the client never answered the close frame (the socket was cut). */
  clientAnsweredClose?: boolean;
}

/**
 * An idle connection costs what its fields cost (there may be 10,000): what
 * most connections never use (the pacer's queues, the closed promise, the
 * parsed query) is made on first use, and what is the same for all (options,
 * grants) is shared.
 */
export class Connection {
  /** Short random id, unique enough to tell connections apart in logs. */
  readonly id = shortId();
  readonly connectedAt = Date.now();
  readonly path: string;
  /** The path as logs and the dashboard show it (redactPath: no token, however it was typed). */
  readonly shownPath: string;
  readonly endpoint: string;
  readonly remoteAddress: string;
  /** Display name: `?name=` or a generated one. */
  name: string;
  /** What this client's token allows. */
  grant: Grant = ANONYMOUS;
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
  /** Reading from this client, paused while any reason holds (over its inbound allowance; too much waiting for it). */
  readonly reading: ReadPause;
  /** The query string the client connected with, without `?`. */
  readonly search: string;
  private parsedQuery: URLSearchParams | undefined;
  private closing = false;
  private socketClosed = false;
  private whenClosed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** While reading is held for outbound bytes: since when the client has read nothing, and the timer that looks again. */
  private stalledSince = 0;
  private stallCheck: NodeJS.Timeout | undefined;
  /** Why the server closed (or cut) this connection, and whether its close frame went out; undefined if the client left. */
  private ending: { code: number; reason: string; frameSent: boolean } | undefined;

  /** Made at the first message to this client (see paced). */
  private pacer: Pacer | undefined;
  private batch: WriteBatch | undefined;

  constructor(
    private readonly socket: WebSocket,
    /** The socket ws was given by handleUpgrade: frames are written to it directly. */
    private readonly wire: Duplex,
    info: ConnectionInfo,
    private readonly options: ConnectionOptions,
    /** Outbound pacing until `pace` changes it. */
    private pacing: PacerOptions,
  ) {
    this.path = info.path;
    this.shownPath = redactPath(info.path);
    this.endpoint = info.endpoint;
    this.search = info.search;
    this.remoteAddress = info.remoteAddress;
    this.name = `guest-${this.id}`;
    this.reading = new ReadPause(socket);
    socket.on('close', () => {
      this.socketClosed = true;
      // Whatever still waits for this client is freed now, not when its pacer would have sent it.
      this.pacer?.stop();
      this.releaseOutbound();
      this.whenClosed?.resolve();
    });
  }

  /** The query options of the URL the client connected with (parsed at the first read: most connections never read it after the handshake). */
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.search));
  }

  /** Resolves when the socket has closed, whoever closed it. */
  get closed(): Promise<void> {
    if (this.socketClosed) return Promise.resolve();
    if (!this.whenClosed) {
      let resolve = () => {};
      const promise = new Promise<void>((done) => (resolve = done));
      this.whenClosed = { promise, resolve };
    }
    return this.whenClosed.promise;
  }

  /** Changes this connection's outbound pacing (e.g. from `?rate=`). */
  pace(pacing: PacerOptions): void {
    this.pacer?.stop();
    this.pacer = undefined;
    this.pacing = pacing;
  }

  /** Messages dropped because this client could not keep up. */
  get dropped(): number {
    return this.pacer?.droppedTotal ?? 0;
  }

  /** Messages waiting for the pacer. */
  get queued(): number {
    return this.pacer?.queued ?? 0;
  }

  /** Bytes waiting for this client: in the pacer and in the socket's send buffer. */
  get queuedBytes(): number {
    return (this.pacer?.bytes ?? 0) + this.wire.writableLength;
  }

  private get paced(): Pacer {
    return (this.pacer ??= this.makePacer(this.pacing));
  }

  private makePacer(pacing: PacerOptions): Pacer {
    return new Pacer(
      pacing,
      (frame) => this.write(frame),
      () => this.wire.writableLength > this.options.maxBufferedBytes,
      (count) => messages.dropped(count).frame(this.encoding),
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
    const pacer = this.paced;
    pacer.push(typeof text === 'string' ? TextFrame.of(text) : text, delivery);
    if (pacer.bytes + this.wire.writableLength > this.options.maxQueuedBytes) this.overBudget();
    return true;
  }

  /**
   * More bytes wait for this client than maxQueuedBytes: its channel messages
   * go first; if that is not enough, reading from it stops until it has read
   * half of what waits. It is closed at twice the bound, or when its socket
   * stays full (it reads nothing) for stallTimeoutMs; a client that reads but
   * asked for more than its rate sends is only held, not closed.
   */
  private overBudget(): void {
    const limit = this.options.maxQueuedBytes;
    const pacer = this.paced;
    pacer.shed();
    if (this.queuedBytes > 2 * limit) return this.giveUp();
    if (this.queuedBytes <= limit || this.reading.has(OUTBOUND_PAUSE)) return;
    this.reading.hold(OUTBOUND_PAUSE);
    pacer.shedding = true;
    this.stalledSince = Date.now();
    this.stallCheck = setInterval(() => {
      const waiting = this.queuedBytes;
      if (waiting > 2 * limit) this.giveUp();
      else if (waiting <= limit / 2) this.releaseOutbound();
      else if (this.wire.writableLength <= this.options.maxBufferedBytes) this.stalledSince = Date.now();
      else if (Date.now() - this.stalledSince > this.options.stallTimeoutMs) this.giveUp();
    }, STALL_CHECK_MS);
    this.stallCheck.unref();
  }

  private releaseOutbound(): void {
    clearInterval(this.stallCheck);
    this.stallCheck = undefined;
    if (this.pacer) this.pacer.shedding = false;
    this.reading.release(OUTBOUND_PAUSE);
  }

  /** Closes a client that does not read what it is sent; what waits for it is freed at once. */
  private giveUp(): void {
    const queuedBytes = this.queuedBytes;
    const stalledMs = this.reading.has(OUTBOUND_PAUSE) ? Date.now() - this.stalledSince : 0;
    this.releaseOutbound();
    if (!this.isOpen) return;
    this.options.log?.warn(
      { conn: this.id, path: this.path, remote: this.remoteAddress, queuedBytes, stalledMs, maxQueuedBytes: this.options.maxQueuedBytes },
      `closing a client that does not read what it is sent (${STALLED_REASON})`,
    );
    void this.close(CloseCode.policyViolation, STALLED_REASON);
  }

  /** Sends a server message in this client's encoding. */
  sendMessage(message: Message, delivery: Delivery = 'reply'): boolean {
    return this.send(message.frame(this.encoding), delivery);
  }

  /** The one place that writes to the socket: always a whole text frame, never after ws has begun to close. */
  private write(frame: TextFrame): void {
    const { socket, wire } = this;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount !== wire.writableLength) {
      // ws holds frames back (it does only while compressing, which is off): ours go behind them, through ws.
      socket.send(frame.bytes, { binary: false });
    } else {
      // A batch never holds more than the connection's own bounds, so a client that reads is never counted as behind.
      this.batch ??= new WriteBatch(wire, Math.min(FLUSH_AT_BYTES, this.options.maxBufferedBytes, this.options.maxQueuedBytes / 2));
      this.batch.write(frame.wire);
    }
    this.recent?.add('out', frame);
    this.messagesOut++;
    this.bytesOut += frame.length;
  }

  /**
   * Closes on purpose: sends `finalMessage` (if any), waits closeLingerMs so a
   * Resonite client actually receives it, then sends the close frame.
   * Resolves when the close frame is on its way.
   */
  close(code: number, reason: string, finalMessage?: Message): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    const ending = (this.ending ??= { code, reason: truncateReason(reason), frameSent: false });
    // The final message skips the queue: it is the last thing this client gets.
    if (finalMessage) this.write(finalMessage.frame(this.encoding));
    this.closing = true;
    this.pacer?.stop();
    this.releaseOutbound();
    return new Promise((resolve) => {
      setTimeout(() => {
        if (this.socket.readyState === this.socket.OPEN) {
          ending.frameSent = true;
          this.socket.close(ending.code, ending.reason);
          // A client that never answers the close frame is cut, so its memory is freed and a shutdown ends.
          setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_MS).unref();
        }
        resolve();
      }, this.options.closeLingerMs);
    });
  }

  /**
   * What to log about the end of this connection, from the code and reason ws
   * reported. A client that did not answer our close frame shows up in ws as
   * 1006 (no close received); the truth is that the server closed it with its
   * own code and reason, and the client stayed silent.
   */
  closeDetails(code: number, reason: string): CloseDetails {
    const ending = this.ending;
    if (!ending) return { code, reason: reason || undefined, closedBy: 'client' };
    if (!ending.frameSent) return { code: ending.code, reason: ending.reason, closedBy: 'server' };
    return { code: ending.code, reason: ending.reason || undefined, closedBy: 'server', clientAnsweredClose: code !== 1006 };
  }

  /** Drops the connection at once, without a close handshake (for clients that stopped answering); `reason` goes to the log. */
  terminate(reason: string): void {
    if (this.socket.readyState !== this.socket.CLOSED) this.ending ??= { code: 1006, reason, frameSent: false };
    this.closing = true;
    this.pacer?.stop();
    this.releaseOutbound();
    this.socket.terminate();
  }

  /**
   * A pong resets the missed-pong count: it shows the client reads what it is
   * sent (the ping waited behind everything before it). Its own messages do not:
   * a client that sends but never reads is not alive.
   */
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
