/**
 * Local services the tests use for real. Outside CI a test whose service is
 * down is skipped with a printed reason; with CI=true it runs (and fails).
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import pg from 'pg';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Something accepts TCP on the port. */
export function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host, timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** `false` when the service is there (or CI requires it); otherwise the reason to skip. */
export async function skipUnless(name: string, port: number): Promise<string | false> {
  if (process.env.CI === 'true' || (await reachable(port))) return false;
  return `${name} is not running on 127.0.0.1:${port} (start it, or run with CI=true to make this a failure)`;
}

/** A PostgreSQL URL whose tables land in a new schema of the test database (dropped after the test): a store no other test shares. */
export async function privateSchema(t: TestContext): Promise<{ url: string; admin: pg.Client; schema: string }> {
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  t.after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), admin, schema };
}
