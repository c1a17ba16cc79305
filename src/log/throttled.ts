/**
 * A log line that may fire thousands of times a second under attack (a socket
 * refused, a connection dropped): at most one line per kind per interval,
 * saying how many were left out since the last one.
 */
import type { Logger } from 'pino';

export class ThrottledLog {
  private readonly last = new Map<string, { at: number; skipped: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  /** Logs `message` under `kind` (a fixed name, never client input: it bounds this map), unless one went out recently. */
  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = performance.now();
    const entry = this.last.get(kind);
    if (entry && now - entry.at < this.intervalMs) {
      entry.skipped++;
      return;
    }
    this.log.warn({ ...fields, ...(entry?.skipped ? { alsoSince: entry.skipped } : {}) }, message);
    this.last.set(kind, { at: now, skipped: 0 });
  }
}
