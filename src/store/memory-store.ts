/** Keys in memory: fast and gone on restart. For tests and throwaway servers. */
import { formatNumber } from '../protocol/values.js';
import { addTo, type Store } from './store.js';

export class MemoryStore implements Store {
  readonly description = 'memory (lost when the server stops)';
  private readonly data = new Map<string, Map<string, string>>();

  async get(ns: string, key: string): Promise<string | undefined> {
    return this.data.get(ns)?.get(key);
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    let space = this.data.get(ns);
    if (!space) this.data.set(ns, (space = new Map()));
    space.set(key, value);
  }

  async delete(ns: string, key: string): Promise<boolean> {
    return this.data.get(ns)?.delete(key) ?? false;
  }

  async keys(ns: string, prefix: string, limit: number): Promise<string[]> {
    const keys = [...(this.data.get(ns)?.keys() ?? [])].filter((key) => key.startsWith(prefix));
    return keys.sort(compareCodePoints).slice(0, limit);
  }

  async incr(ns: string, key: string, by: number): Promise<number> {
    // No await between read and write: that is what makes it atomic here.
    const space = this.data.get(ns);
    const next = addTo(space?.get(key), by);
    if (space) space.set(key, formatNumber(next));
    else this.data.set(ns, new Map([[key, formatNumber(next)]]));
    return next;
  }

  async close(): Promise<void> {}
}

/** Code-point order, the order SQLite's BINARY and PostgreSQL's "C" collation use. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
