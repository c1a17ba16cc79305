/**
 * Reads one client's messages at its inbound allowance. Over it, the message
 * waits (with the few that ws had already parsed from the same read) and the
 * socket is not read until the allowance has room again. So a flooder costs
 * the server about its allowance, not its send rate (the rest waits in its
 * own TCP buffers), and a backlog (a client that went on sending while the
 * server was paused) is read at the allowed rate instead of being dropped.
 */
import type { Allowance, Over } from './inbound-limits.js';
import type { ReadPause } from './read-pause.js';

export interface GateEvents {
  deliver(data: Buffer, isBinary: boolean): void;
  /** The client is over its allowance (`over` says which), and has been for `forMs` without a second's break. */
  over(over: string, forMs: number): void;
}

/** The read-pause reason this gate holds. */
export const INBOUND_PAUSE = 'inbound';
/** Over the allowance again within this long continues the same spell of being over. */
const BREAK_MS = 1_000;
/** Waits are at least this long, so a paused flooder costs a timer per few messages, not per message. */
const MIN_WAIT_MS = 10;

export class InboundGate {
  private readonly held: { data: Buffer; isBinary: boolean }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private overSince = 0;
  private lastOverAt = -Infinity;
  private stopped = false;

  constructor(
    private readonly allowance: Allowance,
    private readonly reading: ReadPause,
    private readonly events: GateEvents,
  ) {}

  /** Messages read but not yet let through. */
  get waiting(): number {
    return this.held.length;
  }

  receive(data: Buffer, isBinary: boolean): void {
    if (this.stopped) return;
    if (this.held.length > 0) {
      this.held.push({ data, isBinary });
      return;
    }
    const over = this.allowance.take(data.length);
    if (!over) return this.events.deliver(data, isBinary);
    this.held.push({ data, isBinary });
    this.wait(over);
  }

  /** The connection is closing: nothing more is let through, and reading is not held back by this gate. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.held.length = 0;
    this.reading.release(INBOUND_PAUSE);
  }

  private wait(over: Over): void {
    this.reading.hold(INBOUND_PAUSE);
    const now = performance.now();
    if (now - this.lastOverAt > BREAK_MS) this.overSince = now;
    this.lastOverAt = now;
    this.timer = setTimeout(() => this.drain(), Math.max(MIN_WAIT_MS, over.waitMs));
    this.events.over(over.over, now - this.overSince);
  }

  private drain(): void {
    this.timer = undefined;
    for (let head = this.held[0]; head && !this.stopped; head = this.held[0]) {
      const over = this.allowance.take(head.data.length);
      if (over) return this.wait(over);
      this.held.shift();
      this.events.deliver(head.data, head.isBinary);
    }
    if (!this.stopped) this.reading.release(INBOUND_PAUSE);
  }
}
