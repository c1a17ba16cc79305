/** Picks the store driver from the `store` setting. */
import { resolve } from 'node:path';
import { MemoryStore } from './memory-store.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { StoreQuota } from './quota.js';
import type { Store } from './store.js';
import { DEFAULT_SQLITE_PATH } from './store-setting.js';


export class StoreError extends Error {
  override name = 'StoreError';
}

export async function openStore(setting: string, quota?: StoreQuota): Promise<Store> {
  try {
    if (setting === 'memory') return new MemoryStore(quota);
    if (setting === 'sqlite' || setting.startsWith('sqlite:')) {
      return new SqliteStore(resolve(setting.slice('sqlite:'.length) || DEFAULT_SQLITE_PATH), quota);
    }
    return await PostgresStore.open(setting, quota);
  } catch (error) {
    throw new StoreError(`Cannot open the store "${setting}": ${(error as Error).message}. ${hint(setting)}`);
  }
}

function hint(setting: string): string {
  if (setting.startsWith('postgres')) {
    return 'Check that PostgreSQL runs and the URL (user, host, port, database) is right, e.g. postgres://user@127.0.0.1:5432/mydb.';
  }
  return 'Check that the folder can be written, or pick another file with --store sqlite:PATH (or --store memory).';
}
