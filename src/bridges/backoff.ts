/** Retry delays for a peer that went away: 1 s, 2 s, 4 s … up to 30 s; back to 1 s once it stayed up for a while. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 1_000,
    private readonly maxMs = 30_000,
  ) {}

  next(): number {
    const delay = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
