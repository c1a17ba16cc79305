/**
 * What a handler can do for one connected client: send it messages, publish
 * to channels, join and leave them, watch keys, and use the store within the
 * client's namespace. Everything it joined or watched is undone when it leaves.
 */
import { clip } from '../protocol/clip.js';
import { mayChannel, mayWriteKeys, type Grant } from '../auth/access.js';
import type { Hub, Membership } from '../hub/hub.js';
import { Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { RequestError } from '../protocol/request-error.js';
import { formatValue, type Value } from '../protocol/values.js';
import type { Connection } from '../server/connection.js';
import { CHANNEL_NAME, CHANNEL_NAME_RULE } from '../server/endpoints/channel.js';
import type { KeyValue } from '../store/keyvalue.js';

/** The store as one client sees it: its namespace only. */
export interface ScopedStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: Value): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(prefix?: string): Promise<string[]>;
  incr(key: string, by?: number): Promise<number>;
}

export interface JoinDefaults {
  /** Receive its own channel messages (`?echo=1`). */
  echo: boolean;
  /** Receive joined/left notices (`?presence=1`). */
  presence: boolean;
}

/** What hooks and endpoint handlers get for a connection. */
export interface ConnectionContext {
  /** Who: id, display name, path, query, remote address. */
  readonly connection: Pick<Connection, 'id' | 'name' | 'path' | 'query' | 'remoteAddress' | 'connectedAt'>;
  readonly store: ScopedStore;
  /** Sends this client a message: `send('rolled', 6)` → `rolled|6`. */
  send(message: Message): void;
  send(tag: string, ...values: Value[]): void;
  /** Publishes `text` to a channel as this client (if it joined, its echo setting applies). */
  publish(channel: string, text: string): void;
  /** Joins a channel; its messages arrive as `msg|<channel>|<from>|<text>`. */
  join(channel: string, history?: number): void;
  leave(channel: string): void;
  /** Display names of a channel's members on every server node (one per membership), sorted. */
  members(channel: string): Promise<string[]>;
  /** Pushes `value|key|v` (or `missing|key` when deleted) to this client on every change of the key. */
  watch(key: string): void;
  unwatch(key: string): void;
}

export interface ClientServices {
  hub: Hub;
  keyvalue: KeyValue;
  maxHistory: number;
}

/** The store within one namespace, for a client whose token may or may not change keys. */
export function scopedStore(keyvalue: KeyValue, ns: string, grant?: Grant): ScopedStore {
  const writable = () => {
    if (grant && !mayWriteKeys(grant)) throw new RequestError(`the token "${grant.name}" may only read keys`);
  };
  return {
    get: (key) => keyvalue.get(ns, key),
    set: async (key, value) => (writable(), keyvalue.set(ns, key, formatValue(value))),
    delete: async (key) => (writable(), keyvalue.delete(ns, key)),
    keys: (prefix = '') => keyvalue.keys(ns, prefix),
    incr: async (key, by = 1) => (writable(), keyvalue.incr(ns, key, by)),
  };
}

export function checkChannel(channel: string): string {
  if (!CHANNEL_NAME.test(channel)) throw new RequestError(`"${clip(channel)}" is not a valid channel name: ${CHANNEL_NAME_RULE}`);
  return channel;
}

/** Channels one client may be in at once: enough for any world, and a bound for a misbehaving one. */
export const MAX_CHANNELS_PER_CLIENT = 100;
/** Keys one client may watch at once: each is a watcher the store tells of every change. */
export const MAX_WATCHES_PER_CLIENT = 1_000;

/** The default, shared by every client (command mode gives a client its own). */
const NO_ECHO_NO_PRESENCE: JoinDefaults = Object.freeze({ echo: false, presence: false });

export class Client implements ConnectionContext {
  /** How `join` joins; command mode sets these from the URL. */
  joinDefaults: JoinDefaults = NO_ECHO_NO_PRESENCE;
  // Made on first use: most connections (relay, echo) never join or watch, and there may be 10,000 of them.
  private readonly memberships = new LazyMap<Membership>();
  private readonly watches = new LazyMap<() => void>();
  private scoped: ScopedStore | undefined;

  constructor(
    readonly connection: Connection,
    private readonly services: ClientServices,
    /** Namespace for the client's keys (`?ns=`). */
    private readonly ns: string,
  ) {
  }

  get store(): ScopedStore {
    return (this.scoped ??= scopedStore(this.services.keyvalue, this.ns, this.connection.grant));
  }

  send(message: Message | string, ...values: Value[]): void {
    this.connection.sendMessage(typeof message === 'string' ? Message.of(message, values) : message);
  }

  publish(channel: string, text: string): void {
    this.allowed(checkChannel(channel), 'write');
    const membership = this.memberships.get(channel);
    if (membership) membership.publish(text);
    else this.services.hub.publish({ type: 'message', channel, senderName: this.connection.name, text });
  }

  join(channel: string, history = 0): void {
    this.allowed(checkChannel(channel), 'read');
    if (this.memberships.has(channel)) return;
    if (this.memberships.size >= MAX_CHANNELS_PER_CLIENT) {
      throw new RequestError(`you are in ${MAX_CHANNELS_PER_CLIENT} channels already, the most one connection may join; leave one first`);
    }
    const { echo, presence } = this.joinDefaults;
    const membership = this.services.hub.join(channel, this.connection, {
      relay: false,
      echo,
      presence,
      history: Math.min(history, this.services.maxHistory),
    });
    this.memberships.set(channel, membership);
  }

  leave(channel: string): void {
    this.memberships.get(channel)?.leave();
    this.memberships.delete(channel);
  }

  async members(channel: string): Promise<string[]> {
    this.allowed(checkChannel(channel), 'read');
    return this.services.hub.members(channel);
  }

  watch(key: string): void {
    if (this.watches.has(key)) return;
    if (this.watches.size >= MAX_WATCHES_PER_CLIENT) {
      throw new RequestError(`you watch ${MAX_WATCHES_PER_CLIENT} keys already, the most one connection may watch; unwatch one first`);
    }
    // Only the latest value of a key matters: if the client is behind, older ones are replaced.
    const delivery = { coalesce: `value:${key}` };
    const stop = this.services.keyvalue.watch(this.ns, key, (value) =>
      this.connection.sendMessage(value === undefined ? messages.missing(key) : messages.value(key, value), delivery),
    );
    this.watches.set(key, stop);
  }

  /**
   * The key's bare value now and on every change (`missing` when it has none), coalesced like
   * `watch`: for `/value/<key>`. A change that arrives before the first read wins over it.
   */
  watchBare(key: string, missing: string): void {
    const delivery = { coalesce: `value:${key}` };
    let changed = false;
    const push = (value: string | undefined) => this.connection.send(value ?? missing, delivery);
    this.watches.set(
      key,
      this.services.keyvalue.watch(this.ns, key, (value) => {
        changed = true;
        push(value);
      }),
    );
    this.services.keyvalue.get(this.ns, key).then(
      (value) => changed || push(value),
      (error: unknown) => this.connection.sendMessage(messages.error('value', error instanceof Error ? error.message : String(error))),
    );
  }

  private allowed(channel: string, want: 'read' | 'write'): void {
    if (!mayChannel(this.connection.grant, channel, want)) {
      throw new RequestError(`the token "${this.connection.grant.name}" may not ${want === 'read' ? 'join' : 'publish to'} channel "${channel}"`);
    }
  }

  unwatch(key: string): void {
    this.watches.get(key)?.();
    this.watches.delete(key);
  }

  /** Leaves every channel and stops every watch (the client disconnected). */
  dispose(): void {
    for (const membership of this.memberships.values()) membership.leave();
    for (const stop of this.watches.values()) stop();
    this.memberships.clear();
    this.watches.clear();
  }
}

/** A Map that allocates nothing until the first set. */
class LazyMap<V> {
  private map: Map<string, V> | undefined;

  get size(): number {
    return this.map?.size ?? 0;
  }

  has(key: string): boolean {
    return this.map?.has(key) ?? false;
  }

  get(key: string): V | undefined {
    return this.map?.get(key);
  }

  set(key: string, value: V): void {
    (this.map ??= new Map()).set(key, value);
  }

  delete(key: string): void {
    this.map?.delete(key);
  }

  values(): Iterable<V> {
    return this.map?.values() ?? [];
  }

  clear(): void {
    this.map = undefined;
  }
}
