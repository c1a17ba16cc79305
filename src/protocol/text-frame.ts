/**
 * One text message as it goes on the wire: a complete WebSocket text frame
 * (RFC 6455 §5.2: FIN, opcode 1, the shortest length form, no mask, since
 * server frames are never masked), built once and written as the same Buffer
 * to every client that gets it. A fan-out to a thousand clients frames and
 * encodes its message once, not a thousand times. It can only be made from a
 * string, so it is always valid text: Connection still sends text frames only.
 */
const FIN_TEXT = 0x81;
const MAX_7BIT = 125;
const MAX_16BIT = 0xffff;

export class TextFrame {
  private constructor(
    /** The whole frame: header and UTF-8 payload. */
    readonly wire: Buffer,
    private readonly headerLength: number,
  ) {}

  static of(text: string): TextFrame {
    const length = Buffer.byteLength(text);
    const headerLength = length <= MAX_7BIT ? 2 : length <= MAX_16BIT ? 4 : 10;
    const wire = Buffer.allocUnsafe(headerLength + length);
    wire[0] = FIN_TEXT;
    if (headerLength === 2) {
      wire[1] = length;
    } else if (headerLength === 4) {
      wire[1] = 126;
      wire.writeUInt16BE(length, 2);
    } else {
      wire[1] = 127;
      wire.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      wire.writeUInt32BE(length >>> 0, 6);
    }
    wire.write(text, headerLength, 'utf8');
    return new TextFrame(wire, headerLength);
  }

  /** The UTF-8 payload (a view into the frame, not a copy). */
  get bytes(): Buffer {
    return this.wire.subarray(this.headerLength);
  }

  /** Payload bytes: what a message costs in queues and counters. */
  get length(): number {
    return this.wire.length - this.headerLength;
  }

  /** The text again (for the dashboard; not on the send path). */
  get text(): string {
    return this.wire.toString('utf8', this.headerLength);
  }
}
