/**
 * The last few messages of one connection, both ways, for the dashboard's
 * connection view. A fixed ring: recording is a slot write (it runs on every
 * send), and text is only decoded when someone looks.
 */
import { TextFrame } from '../protocol/text-frame.js';

export type Direction = 'in' | 'out';

export interface RecentMessage {
  time: number;
  direction: Direction;
  text: string;
}

/** Longest text shown per message; the rest is cut with an ellipsis. */
const SHOWN_CHARS = 2_000;

export class RecentMessages {
  private readonly times: number[] = [];
  private readonly directions: Direction[] = [];
  private readonly frames: (string | TextFrame)[] = [];
  private next = 0;

  constructor(private readonly capacity = 20) {}

  add(direction: Direction, frame: string | TextFrame): void {
    const slot = this.next % this.capacity;
    this.times[slot] = Date.now();
    this.directions[slot] = direction;
    this.frames[slot] = kept(frame);
    this.next++;
  }

  /** When the last message went either way; 0 if none has. */
  get lastTime(): number {
    return this.next === 0 ? 0 : (this.times[(this.next - 1) % this.capacity] ?? 0);
  }

  /** Oldest first. */
  list(): RecentMessage[] {
    const count = Math.min(this.next, this.capacity);
    const result: RecentMessage[] = [];
    for (let i = this.next - count; i < this.next; i++) {
      const slot = i % this.capacity;
      const frame = this.frames[slot] ?? '';
      result.push({ time: this.times[slot] ?? 0, direction: this.directions[slot] ?? 'out', text: shown(frame instanceof TextFrame ? frame.text : frame) });
    }
    return result;
  }
}

export function shown(text: string): string {
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

/**
 * What a slot holds: small messages as they are (no copy: the common case),
 * big ones as a copy of what is shown, so the ring holds at most about
 * capacity × SHOWN_CHARS per connection, not capacity × maxMessageBytes.
 * (A slice of a string would keep the whole string alive; a copy does not.)
 */
function kept(frame: string | TextFrame): string | TextFrame {
  const size = frame.length;
  if (size <= SHOWN_CHARS) return frame;
  const text = typeof frame === 'string' ? frame : frame.bytes.subarray(0, SHOWN_CHARS * 4).toString('utf8');
  return Buffer.from(shown(text), 'utf8').toString('utf8');
}
