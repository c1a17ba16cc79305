/**
 * The store's quota: keys per namespace and bytes over all namespaces, the
 * same for every driver. An entry costs the UTF-8 bytes of its namespace,
 * key and value. Writes that do not grow what is counted (changing a key to
 * a value no bigger, deleting) always go through, even over the quota.
 */
import { RequestError } from '../protocol/request-error.js';

export interface StoreQuota {
  maxKeysPerNamespace: number;
  maxBytes: number;
}

export const NO_QUOTA: StoreQuota = { maxKeysPerNamespace: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY };

/** A write refused by the quota; the message says what to do. */
export class QuotaError extends RequestError {
  override name = 'QuotaError';
}

export function entryBytes(ns: string, key: string, value: string): number {
  return Buffer.byteLength(ns) + Buffer.byteLength(key) + Buffer.byteLength(value);
}

export interface Growth {
  ns: string;
  /** The key is new in its namespace. */
  isNew: boolean;
  /** Keys in the namespace before the write. */
  keys: number;
  /** Bytes over all namespaces before the write. */
  bytes: number;
  /** Bytes the write adds (negative: frees). */
  delta: number;
}

/** Throws QuotaError if the write would take the store past its quota. */
export function checkQuota(quota: StoreQuota, { ns, isNew, keys, bytes, delta }: Growth): void {
  if (isNew && keys >= quota.maxKeysPerNamespace) {
    throw new QuotaError(
      `the namespace "${ns}" holds ${keys} keys, the most this server keeps per namespace; delete keys you no longer need (del), or ask the server's operator to raise maxKeysPerNamespace`,
    );
  }
  if (delta > 0 && bytes + delta > quota.maxBytes) {
    throw new QuotaError(
      `the store is full (${quota.maxBytes} bytes over all namespaces); delete keys you no longer need (del), or ask the server's operator to raise maxStoreBytes`,
    );
  }
}

interface Change {
  ns: string;
  keys: number;
  bytes: number;
}

/** Keys per namespace and bytes in total, counted in this process (memory and SQLite: one process owns the data). */
export class Usage {
  private readonly keys = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly quota: StoreQuota) {}

  /**
   * Checks a write of `value` over a value of `oldBytes` (undefined: a new key);
   * returns the change to record once it is done.
   */
  check(ns: string, key: string, value: string, oldBytes: number | undefined): Change {
    const delta = oldBytes === undefined ? entryBytes(ns, key, value) : Buffer.byteLength(value) - oldBytes;
    checkQuota(this.quota, { ns, isNew: oldBytes === undefined, keys: this.keys.get(ns) ?? 0, bytes: this.bytes, delta });
    return { ns, keys: oldBytes === undefined ? 1 : 0, bytes: delta };
  }

  record({ ns, keys, bytes }: Change): void {
    this.bytes += bytes;
    const count = (this.keys.get(ns) ?? 0) + keys;
    if (count > 0) this.keys.set(ns, count);
    else this.keys.delete(ns);
  }

  /** A key whose value had `oldBytes` was deleted. */
  removed(ns: string, key: string, oldBytes: number): void {
    this.record({ ns, keys: -1, bytes: -(Buffer.byteLength(ns) + Buffer.byteLength(key) + oldBytes) });
  }

  /** What is stored already (read when the store opens). */
  seed(ns: string, keys: number, bytes: number): void {
    this.record({ ns, keys, bytes });
  }

  /** Bytes held now, as counted for the quota. */
  get total(): number {
    return this.bytes;
  }
}
