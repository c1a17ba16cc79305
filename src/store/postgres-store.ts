/**
 * PostgreSQL (pg): the store several server nodes can share. One table,
 * created on first use, and one of usage per namespace (keys, bytes) for the
 * quota. Every write is a transaction that locks its key's row (made first if
 * missing) and its namespace's usage row, so concurrent writes from different
 * nodes never lose an update and count keys exactly. The total over all
 * namespaces is summed at most once a second per node (plus this node's own
 * writes since): nodes writing at once may go past maxStoreBytes by what they
 * write within that second.
 */
import pg from 'pg';
import { formatNumber } from '../protocol/values.js';
import { redactUrl } from '../util/redact-url.js';
import { checkQuota, entryBytes, NO_QUOTA, type StoreQuota } from './quota.js';
import { addTo, type Store } from './store.js';

const TABLE = 'resobridge_kv';
const USAGE = 'resobridge_kv_usage';
/** Serializes table setup between nodes starting at once (pg_advisory_xact_lock). */
const SETUP_LOCK = 0x7265736f;
/** How old the summed total may be before a write sums it again. */
const TOTAL_MAX_AGE_MS = 1_000;

export class PostgresStore implements Store {
  readonly description: string;
  private readonly pool: pg.Pool;
  private total = { bytes: 0, at: Number.NEGATIVE_INFINITY };

  private constructor(
    url: string,
    private readonly quota: StoreQuota,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
    // An idle client that loses its connection must not crash the server; the pool replaces it.
    this.pool.on('error', () => {});
    this.description = `postgres at ${redactUrl(url, 'postgres')}`;
  }

  static async open(url: string, quota: StoreQuota = NO_QUOTA): Promise<PostgresStore> {
    const store = new PostgresStore(url, quota);
    try {
      await store.createTable();
    } catch (error) {
      await store.pool.end();
      throw error;
    }
    return store;
  }

  private async createTable(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
        ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (ns, key))`);
      const { rows } = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [USAGE]);
      if (rows[0]?.found) return;
      // First start with a quota: count what a server of an earlier version stored.
      await client.query(`CREATE TABLE ${USAGE} (ns TEXT PRIMARY KEY, keys BIGINT NOT NULL, bytes BIGINT NOT NULL)`);
      await client.query(
        `INSERT INTO ${USAGE} (ns, keys, bytes)
         SELECT ns, count(*), sum(octet_length(ns) + octet_length(key) + octet_length(value)) FROM ${TABLE} GROUP BY ns`,
      );
    });
  }

  async get(ns: string, key: string): Promise<string | undefined> {
    const result = await this.pool.query<{ value: string }>(`SELECT value FROM ${TABLE} WHERE ns = $1 AND key = $2`, [ns, key]);
    return result.rows[0]?.value;
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    await this.write(ns, key, () => value);
  }

  async delete(ns: string, key: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const result = await client.query<{ bytes: number }>(
        `DELETE FROM ${TABLE} WHERE ns = $1 AND key = $2 RETURNING octet_length(ns) + octet_length(key) + octet_length(value) AS bytes`,
        [ns, key],
      );
      const bytes = result.rows[0]?.bytes;
      if (bytes === undefined) return false;
      await client.query(`UPDATE ${USAGE} SET keys = keys - 1, bytes = bytes - $2 WHERE ns = $1`, [ns, bytes]);
      this.total.bytes -= bytes;
      return true;
    });
  }

  async keys(ns: string, prefix: string, limit: number): Promise<string[]> {
    const result = await this.pool.query<{ key: string }>(
      `SELECT key FROM ${TABLE} WHERE ns = $1 AND starts_with(key, $2) ORDER BY key COLLATE "C" LIMIT $3`,
      [ns, prefix, limit],
    );
    return result.rows.map((row) => row.key);
  }

  async incr(ns: string, key: string, by: number): Promise<number> {
    let next = 0;
    await this.write(ns, key, (current) => formatNumber((next = addTo(current, by))));
    return next;
  }

  /**
   * Writes the value `compute` makes of the current one (undefined: none), within the quota, in one transaction:
   * the key's row is made if missing and locked, so the value read is the one replaced.
   */
  private async write(ns: string, key: string, compute: (current: string | undefined) => string): Promise<void> {
    const total = await this.totalBytes();
    const delta = await this.transaction(async (client) => {
      const made = await client.query(`INSERT INTO ${TABLE} (ns, key, value) VALUES ($1, $2, '') ON CONFLICT DO NOTHING`, [ns, key]);
      const isNew = (made.rowCount ?? 0) > 0;
      const current = await client.query<{ value: string }>(`SELECT value FROM ${TABLE} WHERE ns = $1 AND key = $2 FOR UPDATE`, [ns, key]);
      const old = isNew ? undefined : current.rows[0]?.value;
      const value = compute(old);
      const delta = old === undefined ? entryBytes(ns, key, value) : Buffer.byteLength(value) - Buffer.byteLength(old);
      // The namespace's row is locked until the end, so keys are counted exactly.
      const usage = await client.query<{ keys: string }>(`SELECT keys FROM ${USAGE} WHERE ns = $1 FOR UPDATE`, [ns]);
      checkQuota(this.quota, { ns, isNew, keys: Number(usage.rows[0]?.keys ?? 0), bytes: total, delta });
      await client.query(`UPDATE ${TABLE} SET value = $3, updated_at = now() WHERE ns = $1 AND key = $2`, [ns, key, value]);
      await client.query(
        `INSERT INTO ${USAGE} (ns, keys, bytes) VALUES ($1, $2, $3)
         ON CONFLICT (ns) DO UPDATE SET keys = ${USAGE}.keys + excluded.keys, bytes = ${USAGE}.bytes + excluded.bytes`,
        [ns, isNew ? 1 : 0, delta],
      );
      return delta;
    });
    this.total.bytes += delta;
  }

  /** Bytes over all namespaces: summed again when the last sum is over a second old. */
  private async totalBytes(): Promise<number> {
    const now = Date.now();
    if (this.quota.maxBytes === Number.POSITIVE_INFINITY) return 0;
    if (now - this.total.at > TOTAL_MAX_AGE_MS) {
      const { rows } = await this.pool.query<{ bytes: string | null }>(`SELECT sum(bytes)::text AS bytes FROM ${USAGE}`);
      this.total = { bytes: Number(rows[0]?.bytes ?? 0), at: now };
    }
    return this.total.bytes;
  }

  private async transaction<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await run(client);
      await client.query('COMMIT');
      return result;
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
