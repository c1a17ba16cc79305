/**
 * The default store: one SQLite file (better-sqlite3), WAL mode.
 * synchronous=NORMAL: a write acknowledged to a client survives the server
 * being killed (kill -9, a crash); only a power cut can lose the last writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { formatNumber } from '../protocol/values.js';
import { addTo, type Store } from './store.js';

export class SqliteStore implements Store {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly incrTransaction;

  constructor(path: string) {
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
      set: this.db.prepare<[string, string, string, number]>(
        'INSERT INTO kv (ns, key, value, updated_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      ),
      delete: this.db.prepare<[string, string]>('DELETE FROM kv WHERE ns = ? AND key = ?'),
      keys: this.db.prepare<[string, string, string, number], { key: string }>(
        'SELECT key FROM kv WHERE ns = ? AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?',
      ),
    };
    this.incrTransaction = this.db.transaction((ns: string, key: string, by: number) => {
      const next = addTo(this.statements.get.get(ns, key)?.value, by);
      this.statements.set.run(ns, key, formatNumber(next), Date.now());
      return next;
    });
  }

  async get(ns: string, key: string): Promise<string | undefined> {
    return this.statements.get.get(ns, key)?.value;
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    this.statements.set.run(ns, key, value, Date.now());
  }

  async delete(ns: string, key: string): Promise<boolean> {
    return this.statements.delete.run(ns, key).changes > 0;
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
