/**
 * PostgreSQL (pg): the store several server nodes can share. One table,
 * created on first use; incr is a row-locked transaction so concurrent
 * increments from different nodes never lose an update.
 */
import pg from 'pg';
import { formatNumber } from '../protocol/values.js';
import { redactUrl } from '../util/redact-url.js';
import { addTo, type Store } from './store.js';

const TABLE = 'resobridge_kv';

export class PostgresStore implements Store {
  readonly description: string;
  private readonly pool: pg.Pool;

  private constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
    // An idle client that loses its connection must not crash the server; the pool replaces it.
    this.pool.on('error', () => {});
    this.description = `postgres at ${redactUrl(url, 'postgres')}`;
  }

  static async open(url: string): Promise<PostgresStore> {
    const store = new PostgresStore(url);
    try {
      await store.createTable();
    } catch (error) {
      await store.pool.end();
      throw error;
    }
    return store;
  }

  private async createTable(): Promise<void> {
    const sql = `CREATE TABLE IF NOT EXISTS ${TABLE} (
      ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (ns, key))`;
    try {
      await this.pool.query(sql);
    } catch (error) {
      // Two nodes creating the table at the same moment: one wins, the other sees a duplicate.
      if ((error as { code?: string }).code !== '23505') throw error;
    }
  }

  async get(ns: string, key: string): Promise<string | undefined> {
    const result = await this.pool.query<{ value: string }>(`SELECT value FROM ${TABLE} WHERE ns = $1 AND key = $2`, [ns, key]);
    return result.rows[0]?.value;
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${TABLE} (ns, key, value) VALUES ($1, $2, $3)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
      [ns, key, value],
    );
  }

  async delete(ns: string, key: string): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM ${TABLE} WHERE ns = $1 AND key = $2`, [ns, key]);
    return (result.rowCount ?? 0) > 0;
  }

  async keys(ns: string, prefix: string, limit: number): Promise<string[]> {
    const result = await this.pool.query<{ key: string }>(
      `SELECT key FROM ${TABLE} WHERE ns = $1 AND starts_with(key, $2) ORDER BY key COLLATE "C" LIMIT $3`,
      [ns, prefix, limit],
    );
    return result.rows.map((row) => row.key);
  }

  async incr(ns: string, key: string, by: number): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Lock the row if it exists; insert-if-missing races are settled by ON CONFLICT below.
      await client.query(`INSERT INTO ${TABLE} (ns, key, value) VALUES ($1, $2, '0') ON CONFLICT DO NOTHING`, [ns, key]);
      const current = await client.query<{ value: string }>(
        `SELECT value FROM ${TABLE} WHERE ns = $1 AND key = $2 FOR UPDATE`,
        [ns, key],
      );
      const next = addTo(current.rows[0]?.value, by);
      await client.query(`UPDATE ${TABLE} SET value = $3, updated_at = now() WHERE ns = $1 AND key = $2`, [ns, key, formatNumber(next)]);
      await client.query('COMMIT');
      return next;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
