/**
 * Bounds the HTTP long-polls (GET /channels/<name>/next) held open at once:
 * each holds a socket and a hidden channel listener for up to a minute, so one
 * address or one token may hold only a few, and the server only so many in all.
 */

/** Waits one address, or one token, may hold at once. */
export const MAX_WAITS_PER_CLIENT = 4;
/** Waits the whole server holds at once. */
export const MAX_WAITS = 256;

export class Waits {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perClient = MAX_WAITS_PER_CLIENT,
    private readonly overall = MAX_WAITS,
  ) {}

  /** Takes a wait for every one of `who` (e.g. `address:…`, `token:…`); or says why not, taking nothing. */
  take(who: readonly string[]): string | undefined {
    if (this.total >= this.overall) return `the server holds ${this.overall} waits already, the most it holds at once; try again in a moment`;
    for (const key of who) {
      if ((this.held.get(key) ?? 0) >= this.perClient) {
        return `you have ${this.perClient} waits open already (per ${key.split(':')[0]}), the most one client may; let one end first`;
      }
    }
    this.total++;
    for (const key of who) this.held.set(key, (this.held.get(key) ?? 0) + 1);
    return undefined;
  }

  give(who: readonly string[]): void {
    this.total--;
    for (const key of who) {
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    }
  }

  /** Waits held now (for tests and /healthz-style checks). */
  get size(): number {
    return this.total;
  }
}
