/**
 * The store as commands, apps and bridges use it: size limits checked once,
 * and watchers told of every change, whoever made it.
 */
import { keyProblem } from '../protocol/names.js';
import { formatNumber } from '../protocol/values.js';
import { RequestError } from '../protocol/request-error.js';
import { NotANumberError, type Store } from './store.js';

export interface KeyValueLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Most keys one `keys` answer lists. */
  maxKeysListed: number;
}

/** Told the new value, or undefined when the key was deleted. */
export type Watcher = (value: string | undefined) => void;

export class KeyValue {
  /** Told of every change made here; the server passes it to other nodes (cluster broker). */
  onChange: (ns: string, key: string, value: string | undefined) => void = () => {};
  private readonly watchers = new Map<string, Set<Watcher>>();

  constructor(
    readonly store: Store,
    private readonly limits: KeyValueLimits,
    /** Told how long each store operation took (for metrics). */
    private readonly observe: (operation: string, seconds: number) => void = () => {},
  ) {}

  async get(ns: string, key: string): Promise<string | undefined> {
    return this.timed('get', () => this.store.get(ns, this.checkKey(key)));
  }

  private async timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.observe(operation, (performance.now() - started) / 1000);
    }
  }

  async set(ns: string, key: string, value: string): Promise<void> {
    this.checkKey(key);
    const bytes = Buffer.byteLength(value);
    if (bytes > this.limits.maxValueBytes) {
      throw new RequestError(`the value is ${bytes} bytes; this server keeps values of up to ${this.limits.maxValueBytes} bytes`);
    }
    await this.timed('set', () => this.store.set(ns, key, value));
    this.notify(ns, key, value);
  }

  async delete(ns: string, key: string): Promise<boolean> {
    const existed = await this.timed('delete', () => this.store.delete(ns, this.checkKey(key)));
    if (existed) this.notify(ns, key, undefined);
    return existed;
  }

  async keys(ns: string, prefix: string): Promise<string[]> {
    return this.timed('keys', () => this.store.keys(ns, prefix, this.limits.maxKeysListed));
  }

  async incr(ns: string, key: string, by: number): Promise<number> {
    this.checkKey(key);
    let next: number;
    try {
      next = await this.timed('incr', () => this.store.incr(ns, key, by));
    } catch (error) {
      if (error instanceof NotANumberError) throw new RequestError(`cannot add to "${key}": ${error.message}`);
      throw error;
    }
    this.notify(ns, key, formatNumber(next));
    return next;
  }

  /** Calls `watcher` on every change of the key; returns the function that stops it. */
  watch(ns: string, key: string, watcher: Watcher): () => void {
    const id = watchId(ns, this.checkKey(key));
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(id);
    };
  }

  /** A change made on another node (same shared store): only this node's watchers are told. */
  changedElsewhere(ns: string, key: string, value: string | undefined): void {
    for (const watcher of this.watchers.get(watchId(ns, key)) ?? []) watcher(value);
  }

  private notify(ns: string, key: string, value: string | undefined): void {
    this.onChange(ns, key, value);
    this.changedElsewhere(ns, key, value);
  }

  private checkKey(key: string): string {
    if (key.length === 0) throw new RequestError('the key is empty; give a key name, e.g. score');
    const bytes = Buffer.byteLength(key);
    if (bytes > this.limits.maxKeyBytes) {
      throw new RequestError(`the key is ${bytes} bytes; keys may have up to ${this.limits.maxKeyBytes} bytes`);
    }
    const problem = keyProblem(key);
    if (problem) throw new RequestError(problem);
    return key;
  }
}

const watchId = (ns: string, key: string): string => `${ns}\u0000${key}`;
