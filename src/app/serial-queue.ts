/**
 * Runs one client's commands one after another, so replies come in the order
 * the commands were sent (a `set` then a `get` sees the new value), and
 * bounds how many may wait.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly limit: number) {}

  /** Queues a task that must not reject; false if the queue is full. */
  push(task: () => Promise<void>): boolean {
    if (this.waiting >= this.limit) return false;
    this.waiting++;
    this.tail = this.tail.then(task).finally(() => this.waiting--);
    return true;
  }
}
