/** Keys in memory: fast and gone on restart. For tests and throwaway servers. */
import { formatNumber } from '../protocol/values.js';
import { NO_QUOTA, Usage, type StoreQuota } from './quota.js';
import { addTo, type Store } from './store.js';

export class MemoryStore implements Store {
  readonly description = 'memory (lost when the server stops)';
  private readonly data = new Map<string, Map<string, string>>();
  private readonly usage: Usage;

  constructor(quota: StoreQuota = NO_QUOTA) {
    this.usage = new Usage(quota);
  }

  async get(ns: string, key: string): Promise<string | undefined> {
    return this.data.get(ns)?.get(key);
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    this.put(ns, key, value);
  }

  async delete(ns: string, key: string): Promise<boolean> {
    const space = this.data.get(ns);
    const old = space?.get(key);
    if (!space || old === undefined) return false;
    space.delete(key);
    if (space.size === 0) this.data.delete(ns);
    this.usage.removed(ns, key, Buffer.byteLength(old));
    return true;
  }

  async keys(ns: string, prefix: string, limit: number): Promise<string[]> {
    const keys = [...(this.data.get(ns)?.keys() ?? [])].filter((key) => key.startsWith(prefix));
    return keys.sort(compareCodePoints).slice(0, limit);
  }

  async incr(ns: string, key: string, by: number): Promise<number> {
    // No await between read and write: that is what makes it atomic here.
    const next = addTo(this.data.get(ns)?.get(key), by);
    this.put(ns, key, formatNumber(next));
    return next;
  }

  async close(): Promise<void> {}

  private put(ns: string, key: string, value: string): void {
    let space = this.data.get(ns);
    const old = space?.get(key);
    const change = this.usage.check(ns, key, value, old === undefined ? undefined : Buffer.byteLength(old));
    if (!space) this.data.set(ns, (space = new Map()));
    space.set(key, value);
    this.usage.record(change);
  }
}

/** Code-point order, the order SQLite's BINARY and PostgreSQL's "C" collation use. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
