/**
 * Outbound pacing for one connection. A Resonite world handles tens of
 * messages per second; a flood crashes it (Resonite-Issues #19, #3365). So
 * what goes to a client passes a token bucket (rate, burst) and waits in one
 * of two lanes:
 *   - replies (and other messages that must not be lost) go first, so a
 *     world's own commands are answered within a tick or two of its rate,
 *     however busy its channels are;
 *   - channel traffic waits behind them, bounded by count (queueLimit,
 *     oldest dropped first) and by age (maxAgeMs: a world under overload sees
 *     recent messages, not old ones); watched values coalesce, only the latest
 *     per key waits, in the place of the first.
 * Drops are told as one `dropped|<count>` notice at most once a second (and
 * never more than a tenth of the rate), with the count of everything dropped
 * since the last one, so notices never crowd out messages.
 * Bytes waiting are counted (`bytes`): the Connection bounds them, and while
 * it is over its bound (`shedding`) channel traffic is dropped, not queued.
 * The clock is injectable, so tests can drive the pacer deterministically.
 */
import type { TextFrame } from '../protocol/text-frame.js';
import { Fifo } from './fifo.js';

/**
 * How a message may be treated when the client cannot keep up: `reply` is
 * never dropped and goes first; `stream` (channel traffic) may be dropped by
 * count or age; `history` (a replay, old by nature) by count only; `coalesce`
 * keeps only the latest message per key.
 */
export type Delivery = 'reply' | 'stream' | 'history' | { coalesce: string };

export interface PacerOptions {
  /** Messages per second; 0 sends at once, unpaced. */
  rate: number;
  /** Messages that may go at once after a quiet spell. */
  burst: number;
  /** Channel messages that may wait. */
  queueLimit: number;
  /** Longest a channel message may wait, in ms, before it is dropped; 0 = no age bound. */
  maxAgeMs: number;
}

/** Time and timers, injectable for tests. */
export interface PacerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(run: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

export const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer: (run, ms) => setTimeout(run, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** Bytes a waiting message costs besides its text (its record in the queue), for the byte bound. */
const ITEM_OVERHEAD_BYTES = 64;
/** Re-check of a congested socket (its buffer drains as the client reads). */
const CONGESTED_POLL_MS = 25;
/** Drop notices go at most this often, and at most once per this many tokens. */
const NOTICE_EVERY_MS = 1_000;
const NOTICE_EVERY_TOKENS = 10;

interface Waiting {
  frame: TextFrame;
  kind: 'reply' | 'stream' | 'history' | 'value';
  key: string | undefined;
  /** When it was queued (clock ms). */
  at: number;
  bytes: number;
  /** Removed from the middle of its lane (skipped when it reaches the front). */
  gone: boolean;
}

const isLive = (waiting: Waiting) => !waiting.gone;
const isDroppable = (waiting: Waiting) => !waiting.gone && waiting.kind !== 'value';

export class Pacer {
  /** All messages ever dropped, for logs and metrics. */
  droppedTotal = 0;
  /** Bytes waiting in both lanes (text plus a per-message overhead). */
  bytes = 0;
  /** While true (the connection is over its byte bound), channel traffic is dropped instead of queued. */
  shedding = false;
  /** Messages dropped since the last `dropped` notice. */
  private dropped = 0;
  private noticeAt = -Infinity;
  private readonly noticeEveryMs: number;
  private tokens: number;
  private refilledAt: number;
  private readonly replies = new Fifo<Waiting>();
  private readonly channel = new Fifo<Waiting>();
  /** Live (not gone) messages in the channel lane. */
  private channelCount = 0;
  /** Waiting coalesced values by key. */
  private readonly byKey = new Map<string, Waiting>();
  private timer: unknown;
  private readonly onTimer = () => {
    this.timer = undefined;
    this.drain();
  };

  constructor(
    private readonly options: PacerOptions,
    /** Writes to the socket. */
    private readonly write: (frame: TextFrame) => void,
    /** True while the socket's send buffer is too full to add to. */
    private readonly congested: () => boolean,
    /** The `dropped|<count>` notice, in the client's encoding. */
    private readonly dropNotice: (count: number) => TextFrame,
    private readonly clock: PacerClock = realClock,
  ) {
    this.tokens = options.burst;
    this.refilledAt = clock.now();
    this.noticeEveryMs = options.rate > 0 ? Math.max(NOTICE_EVERY_MS, (NOTICE_EVERY_TOKENS * 1000) / options.rate) : NOTICE_EVERY_MS;
  }

  /** Messages waiting. */
  get queued(): number {
    return this.replies.length + this.channelCount;
  }

  push(frame: TextFrame, delivery: Delivery): void {
    if (this.replies.length === 0 && this.channelCount === 0 && !this.congested() && this.take()) {
      this.write(frame);
      return;
    }
    const now = this.clock.now();
    const kind = typeof delivery === 'string' ? delivery : 'value';
    const key = typeof delivery === 'string' ? undefined : delivery.coalesce;
    this.enqueue(frame, kind, key, now);
    this.schedule(now);
  }

  /** Drops the channel messages waiting (not replies, not watched values): the connection is over its byte bound. */
  shed(): void {
    this.channel.forEach((item) => {
      if (!item.gone && item.kind !== 'value') this.remove(item, true);
    });
    const now = this.clock.now();
    this.dropStale(now);
    this.schedule(now);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.replies.clear();
    this.channel.clear();
    this.byKey.clear();
    this.channelCount = 0;
    this.bytes = 0;
  }

  private enqueue(frame: TextFrame, kind: Waiting['kind'], key: string | undefined, now: number): void {
    const bytes = frame.length + ITEM_OVERHEAD_BYTES;
    if (key !== undefined) {
      const same = this.byKey.get(key);
      if (same) {
        this.bytes += bytes - same.bytes;
        same.frame = frame; // the latest value wins, in the place of the old one
        same.bytes = bytes;
        return;
      }
    }
    const item: Waiting = { frame, kind, key, at: now, bytes, gone: false };
    if (kind === 'reply') {
      this.replies.push(item);
      this.bytes += bytes;
      return;
    }
    if (this.shedding) return this.countDrop();
    this.dropStale(now);
    if (this.channelCount >= this.options.queueLimit) {
      // Oldest channel message first; values (the current state of a key) only when there is nothing else.
      const victim = this.channel.find(isDroppable) ?? this.channel.find(isLive);
      if (victim) this.remove(victim, true);
    }
    this.channel.push(item);
    this.channelCount++;
    this.bytes += bytes;
    if (key !== undefined) this.byKey.set(key, item);
  }

  /** Takes `item` out of the channel lane's count (it is skipped or already shifted). */
  private remove(item: Waiting, drop: boolean): void {
    item.gone = true;
    this.channelCount--;
    this.bytes -= item.bytes;
    if (item.key !== undefined) this.byKey.delete(item.key);
    if (drop) this.countDrop();
  }

  private countDrop(): void {
    this.dropped++;
    this.droppedTotal++;
  }

  /** Drops channel messages at the front that have waited longer than maxAgeMs, and skips removed ones. */
  private dropStale(now: number): void {
    const { maxAgeMs } = this.options;
    for (let item = this.channel.peek(); item; item = this.channel.peek()) {
      if (item.gone) {
        this.channel.shift();
        continue;
      }
      if (maxAgeMs === 0 || item.kind !== 'stream' || now - item.at <= maxAgeMs) return;
      this.channel.shift();
      this.remove(item, true);
    }
  }

  /** Takes a token if one is there (refilling by the time passed). */
  private take(now?: number): boolean {
    if (this.options.rate === 0) return true;
    now ??= this.clock.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) * this.options.rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private noticeDue(now: number): boolean {
    return this.dropped > 0 && now - this.noticeAt >= this.noticeEveryMs;
  }

  private drain(): void {
    const now = this.clock.now();
    while (!this.congested()) {
      this.dropStale(now);
      const notice = this.noticeDue(now);
      if (this.replies.length === 0 && this.channelCount === 0 && !notice) break;
      if (!this.take(now)) break;
      if (this.replies.length > 0) {
        const reply = this.replies.shift() as Waiting;
        this.bytes -= reply.bytes;
        this.write(reply.frame);
      } else if (notice) {
        this.write(this.dropNotice(this.dropped));
        this.dropped = 0;
        this.noticeAt = now;
      } else {
        const next = this.channel.shift() as Waiting;
        this.remove(next, false);
        this.write(next.frame);
      }
    }
    this.schedule(now);
  }

  /** Sets the timer for when something can next go: a token, a due notice, or a re-check of a congested socket. */
  private schedule(now: number): void {
    if (this.timer !== undefined) return;
    const { rate } = this.options;
    const tokenWait = rate === 0 ? 0 : Math.max(0, ((1 - this.tokens) * 1000) / rate);
    let wait = Infinity;
    if (this.replies.length > 0 || this.channelCount > 0) wait = this.congested() ? Math.max(tokenWait, CONGESTED_POLL_MS) : tokenWait;
    if (this.dropped > 0) wait = Math.min(wait, Math.max(tokenWait, this.noticeAt + this.noticeEveryMs - now));
    if (wait === Infinity) return;
    this.timer = this.clock.setTimer(this.onTimer, Math.max(1, Math.ceil(wait)));
  }
}
