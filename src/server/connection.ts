/**
 * One client connection. This is the only place in resobridge that sends to a
 * client, and `send` takes a string or a TextFrame (made only from a string)
 * and always sends a text frame, so a binary frame can never go out:
 * Resonite can only receive text.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Encoding, Message } from '../protocol/message.js';
import { TextFrame } from '../protocol/text-frame.js';

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
  /** URL path the client connected to, e.g. `/channel/lobby`. */
  path: string;
  query: URLSearchParams;
  remoteAddress: string;
}

export class Connection {
  /** Short random id, unique enough to tell connections apart in logs. */
  readonly id = randomBytes(3).toString('hex');
  readonly connectedAt = Date.now();
  readonly path: string;
  readonly query: URLSearchParams;
  readonly remoteAddress: string;
  /** Display name: `?name=` or a generated one. */
  name: string;
  messagesIn = 0;
  messagesOut = 0;
  /** How this client reads server messages: lines (worlds) or JSON (apps that asked for `?format=json`). */
  encoding: Encoding = 'line';
  /** Pings sent since the client last showed it is alive. */
  missedPongs = 0;
  /** Resolves when the socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
  private closing = false;

  constructor(
    private readonly socket: WebSocket,
    info: ConnectionInfo,
    private readonly closeLingerMs: number,
  ) {
    this.path = info.path;
    this.query = info.query;
    this.remoteAddress = info.remoteAddress;
    this.name = `guest-${this.id}`;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** True until the server has started to close this connection, or the client left. */
  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === this.socket.OPEN;
  }

  /** Sends one text message. Returns false if the connection is closing. */
  send(text: string | TextFrame): boolean {
    let data: string | Buffer;
    if (typeof text === 'string') data = text;
    else if (text instanceof TextFrame) data = text.bytes;
    else throw new TypeError('Connection.send takes text only: Resonite cannot receive binary');
    if (!this.isOpen) return false;
    this.socket.send(data, { binary: false });
    this.messagesOut++;
    return true;
  }

  /** Sends a server message in this client's encoding. */
  sendMessage(message: Message): boolean {
    return this.send(message.frame(this.encoding));
  }

  /**
   * Closes on purpose: sends `finalMessage` (if any), waits closeLingerMs so a
   * Resonite client actually receives it, then sends the close frame.
   * Resolves when the close frame is on its way.
   */
  close(code: number, reason: string, finalMessage?: Message): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    if (finalMessage) this.sendMessage(finalMessage);
    this.closing = true;
    return new Promise((resolve) => {
      setTimeout(() => {
        if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, truncateReason(reason));
        resolve();
      }, this.closeLingerMs);
    });
  }

  /** Drops the connection at once, without a close handshake (for clients that stopped answering). */
  terminate(): void {
    this.closing = true;
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
