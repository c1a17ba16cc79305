/**
 * The dashboard's live message log, server side: entries gather between
 * flushes and go out as one batch. A flood cannot turn into a flood of
 * dashboard frames: past `perBatch` entries a batch only counts what it left out.
 */
import { shown } from '../server/recent-messages.js';
import type { LogBatch, LogEntry } from './wire.js';

export class ActivityLog {
  private pending: LogEntry[] = [];
  private skipped = 0;
  private seq = 0;
  private on = false;

  constructor(private readonly perBatch = 250) {}

  /** Off while no one is looking: recording costs nothing then, and what gathered is dropped. */
  get recording(): boolean {
    return this.on;
  }

  set recording(on: boolean) {
    this.on = on;
    if (!on) this.take();
  }

  add(entry: Omit<LogEntry, 'seq' | 'time' | 'text'> & { text: string }): void {
    if (!this.on) return;
    this.seq++;
    if (this.pending.length >= this.perBatch) {
      this.skipped++;
      return;
    }
    this.pending.push({ ...entry, text: shown(entry.text), seq: this.seq, time: Date.now() });
  }

  /** What gathered since the last call, or undefined if nothing did. */
  take(): LogBatch | undefined {
    if (this.pending.length === 0 && this.skipped === 0) return undefined;
    const batch: LogBatch = { type: 'log', entries: this.pending, skipped: this.skipped };
    this.pending = [];
    this.skipped = 0;
    return batch;
  }
}
