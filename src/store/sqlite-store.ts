/**
 * The default store: one SQLite file (better-sqlite3), WAL mode.
 * synchronous=NORMAL: a write acknowledged to a client survives the server
 * being killed (kill -9, a crash); only a power cut can lose the last writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { formatNumber } from '../protocol/values.js';
import { NO_QUOTA, Usage, type StoreQuota } from './quota.js';
import { addTo, type Store } from './store.js';

export class SqliteStore implements Store {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly incrTransaction;
  /** Counted here, in the process that owns the file: one scan when it opens, then per write. */
  private readonly usage: Usage;

  constructor(path: string, quota: StoreQuota = NO_QUOTA) {
    mkdirSync(dirname(path), { recursive: true });
    this.description = `sqlite at ${path}`;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS kv (
      ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
      updated_at INTEGER NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID`);
    this.statements = {
      get: this.db.prepare<[string, string], { value: string }>('SELECT value FROM kv WHERE ns = ? AND key = ?'),
      size: this.db.prepare<[string, string], { bytes: number }>('SELECT length(CAST(value AS BLOB)) AS bytes FROM kv WHERE ns = ? AND key = ?'),
      deleteReturning: this.db.prepare<[string, string], { bytes: number }>(
        'DELETE FROM kv WHERE ns = ? AND key = ? RETURNING length(CAST(value AS BLOB)) AS bytes',
      ),
      set: this.db.prepare<[string, string, string, number]>(
        'INSERT INTO kv (ns, key, value, updated_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      ),
      keys: this.db.prepare<[string, string, string, number], { key: string }>(
        'SELECT key FROM kv WHERE ns = ? AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?',
      ),
    };
    this.incrTransaction = this.db.transaction((ns: string, key: string, by: number) => {
      const next = addTo(this.statements.get.get(ns, key)?.value, by);
      this.put(ns, key, formatNumber(next));
      return next;
    });
    this.usage = new Usage(quota);
    const sizes = this.db.prepare<[], { ns: string; keys: number; bytes: number }>(
      'SELECT ns, count(*) AS keys, sum(length(CAST(ns AS BLOB)) + length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))) AS bytes FROM kv GROUP BY ns',
    );
    for (const { ns, keys, bytes } of sizes.iterate()) this.usage.seed(ns, keys, bytes);
  }

  /** Writes within the quota (a QuotaError otherwise). Synchronous: nothing else runs between the check and the write. */
  private put(ns: string, key: string, value: string): void {
    const change = this.usage.check(ns, key, value, this.statements.size.get(ns, key)?.bytes);
    this.statements.set.run(ns, key, value, Date.now());
    this.usage.record(change);
  }

  async get(ns: string, key: string): Promise<string | undefined> {
    return this.statements.get.get(ns, key)?.value;
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    this.put(ns, key, value);
  }

  async delete(ns: string, key: string): Promise<boolean> {
    const deleted = this.statements.deleteReturning.get(ns, key);
    if (deleted) this.usage.removed(ns, key, deleted.bytes);
    return deleted !== undefined;
  }

  async keys(ns: string, prefix: string, limit: number): Promise<string[]> {
    return this.statements.keys.all(ns, prefix, prefix, limit).map((row) => row.key);
  }

  async incr(ns: string, key: string, by: number): Promise<number> {
    return this.incrTransaction(ns, key, by);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
