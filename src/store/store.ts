/**
 * The key/value store behind one interface. Drivers: memory (throwaway),
 * sqlite (default, embedded, survives restarts), postgres (shared by several
 * server nodes). Values are text; `ns` keeps worlds' keys apart.
 * Size limits and watching live in KeyValue, once for every driver.
 */

export interface Store {
  /** What and where, for the banner and logs, e.g. `sqlite at data/resobridge.db`. */
  readonly description: string;
  get(ns: string, key: string): Promise<string | undefined>;
  set(ns: string, key: string, value: string): Promise<void>;
  /** True if the key existed. */
  delete(ns: string, key: string): Promise<boolean>;
  /** Keys starting with `prefix`, in code-point order, at most `limit`. */
  keys(ns: string, prefix: string, limit: number): Promise<string[]>;
  /** Adds `by` to the key's number (a missing key counts as 0), atomically; returns the new number. */
  incr(ns: string, key: string, by: number): Promise<number>;
  close(): Promise<void>;
}

/** A stored value that incr cannot add to. */
export class NotANumberError extends Error {
  override name = 'NotANumberError';
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** The next value for incr, the same for every driver. */
export function addTo(current: string | undefined, by: number): number {
  if (current === undefined) return by;
  if (!NUMBER.test(current)) throw new NotANumberError(`its value "${current.slice(0, 40)}" is not a number`);
  const next = Number(current) + by;
  // Past 2^53 a double no longer counts by one: refuse rather than round.
  if (!(Math.abs(Number(current)) <= Number.MAX_SAFE_INTEGER && Math.abs(next) <= Number.MAX_SAFE_INTEGER)) {
    throw new NotANumberError(`the result would be beyond ±${Number.MAX_SAFE_INTEGER}, the largest number counted exactly`);
  }
  return next;
}
