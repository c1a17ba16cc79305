/**
 * Outbound pacing for one connection. A Resonite world handles tens of
 * messages per second; a flood crashes it (Resonite-Issues #19, #3365). So
 * what goes to a client passes a token bucket (rate, burst), waits in a
 * bounded queue, and when that is full:
 *   - stream messages (channel traffic) drop oldest-first, and the client is
 *     sent `dropped|<count>` as soon as the rate allows;
 *   - values (watched keys) coalesce: only the latest per key is kept;
 *   - replies are never dropped; but a client whose queue holds more than
 *     HARD_QUEUE_FACTOR × queueLimit messages is not reading them: it is closed.
 * The same applies while the socket is congested (a client that stopped reading).
 */
import type { TextFrame } from '../protocol/text-frame.js';

/** How a message may be treated when the client cannot keep up. */
export type Delivery = 'reply' | 'stream' | { coalesce: string };

export interface PacerOptions {
  /** Messages per second; 0 sends at once, unpaced. */
  rate: number;
  /** Messages that may go at once after a quiet spell. */
  burst: number;
  /** Messages that may wait. */
  queueLimit: number;
}

/** Past this many times queueLimit waiting (replies, which are never dropped), the client is given up on. */
const HARD_QUEUE_FACTOR = 4;

interface Waiting {
  frame: TextFrame | string;
  kind: 'reply' | 'stream' | 'value';
  key?: string;
}

export class Pacer {
  /** Messages dropped since the last `dropped` notice. */
  private dropped = 0;
  /** All messages ever dropped, for logs and metrics. */
  droppedTotal = 0;
  private tokens: number;
  private refilledAt = performance.now();
  private readonly queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: PacerOptions,
    /** Writes to the socket. */
    private readonly write: (frame: TextFrame | string) => void,
    /** True while the socket's send buffer is too full to add to. */
    private readonly congested: () => boolean,
    /** The `dropped|<count>` notice, in the client's encoding. */
    private readonly dropNotice: (count: number) => TextFrame,
    /** Called once when the client has stopped reading for good. */
    private readonly onStalled: () => void,
  ) {
    this.tokens = options.burst;
  }

  get queued(): number {
    return this.queue.length;
  }

  push(frame: TextFrame | string, delivery: Delivery): void {
    const kind = typeof delivery === 'string' ? delivery : 'value';
    if (this.queue.length === 0 && this.dropped === 0 && !this.congested() && this.take()) {
      this.write(frame);
      return;
    }
    this.enqueue({ frame, kind, key: typeof delivery === 'string' ? undefined : delivery.coalesce });
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private enqueue(item: Waiting): void {
    if (item.key !== undefined) {
      const same = this.queue.find((waiting) => waiting.key === item.key);
      if (same) {
        same.frame = item.frame; // the latest value wins, in the place of the old one
        return;
      }
    }
    if (this.queue.length >= this.options.queueLimit && item.kind !== 'reply') {
      const oldest = this.queue.findIndex((waiting) => waiting.kind === 'stream');
      if (oldest >= 0) this.queue.splice(oldest, 1);
      this.countDrop();
      if (oldest < 0 && item.kind === 'stream') return;
    }
    this.queue.push(item);
    if (this.queue.length > this.options.queueLimit * HARD_QUEUE_FACTOR) {
      this.stop();
      this.onStalled();
    }
  }

  private countDrop(): void {
    this.dropped++;
    this.droppedTotal++;
  }

  /** Takes a token if one is there (refilling by the time passed). */
  private take(): boolean {
    if (this.options.rate === 0) return true;
    const now = performance.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) * this.options.rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.options.rate === 0 ? 50 : Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.options.rate));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    while ((this.queue.length > 0 || this.dropped > 0) && !this.congested() && this.take()) {
      if (this.dropped > 0) {
        this.write(this.dropNotice(this.dropped));
        this.dropped = 0;
        continue;
      }
      const next = this.queue.shift();
      if (next) this.write(next.frame);
    }
    if (this.queue.length > 0 || this.dropped > 0) this.schedule();
  }
}
