/**
 * Runs a bridge's mappings one message at a time, in the order the messages
 * came (an evaluation is asynchronous, so two at once could finish out of
 * order). A message whose mapping fails is dropped and logged, rate-limited;
 * the bridge goes on. Messages that arrive faster than mappings run wait up
 * to MAPPING_QUEUE_LIMIT; past it new ones are dropped (and logged).
 */
import type { Logger } from 'pino';
import { ThrottledLog } from '../log/throttled.js';

/** Messages that may wait for their mapping, per bridge. */
export const MAPPING_QUEUE_LIMIT = 1_000;

export class MappingQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;
  private readonly throttled: ThrottledLog;

  constructor(
    private readonly bridge: string,
    log: Logger,
    private readonly limit = MAPPING_QUEUE_LIMIT,
  ) {
    this.throttled = new ThrottledLog(log);
  }

  /** Queues one message's work; `what` says what it was in a log line (never its content). */
  push(what: string, work: () => Promise<void>): void {
    if (this.waiting >= this.limit) {
      this.throttled.warn('full', { bridge: this.bridge, limit: this.limit }, `${what} dropped: messages come faster than the bridge's mappings run`);
      return;
    }
    this.waiting++;
    this.tail = this.tail
      .then(work)
      .catch((error: unknown) => this.failed(what, error))
      .finally(() => this.waiting--);
  }

  /** Logs a failed mapping (rate-limited): the message is dropped, the bridge goes on. */
  failed(what: string, error: unknown): void {
    const err = error instanceof Error ? error.message : String(error);
    this.throttled.warn('failed', { bridge: this.bridge, err }, `${what} dropped: its mapping failed`);
  }

  /** Resolves once everything queued so far is done. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
