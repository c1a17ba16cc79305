/**
 * A sliding-window send limit: at most `limit` sends in any `windowMs`, with a
 * bounded queue for what comes in faster. Used for Twitch chat, where going
 * over the limit locks the account out for 30 minutes: nothing here ever sends
 * early; what does not fit in the queue is refused, and the caller says so.
 * The clock is injectable, so tests can drive it deterministically.
 */
import { realClock, type PacerClock } from '../server/pacer.js';

export type Offer = 'sent' | 'queued' | 'refused';

export class SendLimiter<T> {
  /** When each send in the current window went (clock ms), oldest first; never longer than `limit`. */
  private readonly sentAt: number[] = [];
  private readonly waiting: T[] = [];
  private timer: unknown;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly queueMax: number,
    private readonly send: (item: T) => void,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** Sends now if the window has room, else queues it if the queue has room, else refuses it. */
  offer(item: T): Offer {
    this.forget();
    if (this.waiting.length === 0 && this.sentAt.length < this.limit) {
      this.go(item);
      return 'sent';
    }
    if (this.waiting.length >= this.queueMax) return 'refused';
    this.waiting.push(item);
    this.schedule();
    return 'queued';
  }

  /** Messages waiting for room in the window. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Drops everything waiting (a disconnect, a stop) and returns it, so the caller can tell the senders. */
  clear(): T[] {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    return this.waiting.splice(0);
  }

  private go(item: T): void {
    this.sentAt.push(this.clock.now());
    this.send(item);
  }

  /** Sends that left the window no longer count. */
  private forget(): void {
    const now = this.clock.now();
    while (this.sentAt.length > 0 && now - (this.sentAt[0] as number) >= this.windowMs) this.sentAt.shift();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiting.length === 0) return;
    const oldest = this.sentAt[0] ?? this.clock.now();
    const wait = Math.max(0, oldest + this.windowMs - this.clock.now());
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.forget();
      while (this.waiting.length > 0 && this.sentAt.length < this.limit) this.go(this.waiting.shift() as T);
      this.schedule();
    }, wait);
  }
}
