/**
 * Redis (ioredis) as the cluster's engine: pub/sub carries events, a list per
 * channel keeps history (RPUSH + LTRIM), a hash per channel keeps each node's
 * member list, and a key per node that expires after nodeTtlMs says it is
 * alive. Each write and its publish go in one MULTI, so whoever reads the
 * store has seen at least what was published.
 * Pub/sub needs a connection of its own; the other one refuses commands
 * while Redis is away (no offline queue): nothing piles up during an outage.
 */
import { Redis } from 'ioredis';
import { redactUrl } from '../util/redact-url.js';
import { within } from '../util/timeout.js';
import type { Transport, TransportOptions } from './cluster-transport.js';

/** HDEL a node's list only while the node's liveness key is absent, atomically: a node that came back keeps it. */
const FORGET = `if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

/**
 * Appends to a channel's history and keeps it within its bounds, atomically:
 * `maxHistory` messages and `channelBytes` per channel (oldest go first), and
 * `totalBytes` over every channel of the cluster (the least recently published
 * to loses its whole history first). Each channel's byte count sits in a hash,
 * the order of use in a sorted set, the total in a key, all under the prefix.
 * KEYS: history list, byte counts (hash), use order (zset), total bytes, use counter.
 * ARGV: channel, payload, maxHistory, channelBytes, totalBytes, history key prefix.
 */
const APPEND_HISTORY = `
local list, sizes, order, total, clock = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local channel, payload = ARGV[1], ARGV[2]
local maxHistory, channelBytes, totalBytes = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('RPUSH', list, payload)
local bytes = redis.call('HINCRBY', sizes, channel, #payload)
local all = redis.call('INCRBY', total, #payload)
local length = redis.call('LLEN', list)
while length > maxHistory or bytes > channelBytes do
  local old = redis.call('LPOP', list)
  if not old then break end
  bytes = redis.call('HINCRBY', sizes, channel, -#old)
  all = redis.call('INCRBY', total, -#old)
  length = length - 1
end
redis.call('ZADD', order, redis.call('INCR', clock), channel)
while all > totalBytes do
  local oldest = redis.call('ZRANGE', order, 0, 0)[1]
  if not oldest or oldest == channel then break end
  all = redis.call('INCRBY', total, -tonumber(redis.call('HGET', sizes, oldest) or '0'))
  redis.call('DEL', ARGV[6] .. oldest)
  redis.call('HDEL', sizes, oldest)
  redis.call('ZREM', order, oldest)
end
return all`;

/** Longest wait between reconnection attempts. */
const MAX_RETRY_MS = 5_000;

export class RedisTransport implements Transport {
  readonly description: string;
  readonly hint =
    'Check that Redis runs and the URL (host, port, password) is right, e.g. --broker redis://127.0.0.1:6379; or leave --broker out to run a single node.';
  onPayload: (payload: string) => void = () => {};
  onState: (up: boolean, error?: unknown) => void = () => {};
  private readonly commands: Redis;
  private readonly bus: Redis;
  private up = false;
  private lastError: unknown;

  constructor(
    url: string,
    private readonly options: TransportOptions,
  ) {
    this.description = `redis at ${redactUrl(url, 'redis')}`;
    const settings = {
      lazyConnect: true,
      connectTimeout: 5_000,
      // TCP keepalive probes after 10 s idle: a half-open link (a partition) is noticed, not after the OS's 2 h.
      keepAlive: 10_000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, MAX_RETRY_MS),
    };
    // A command that gets no answer within the liveness window fails instead of queueing for good.
    const commandTimeout = Math.max(options.nodeTtlMs, 1_000);
    this.commands = new Redis(url, { ...settings, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout });
    this.bus = new Redis(url, settings);
    for (const connection of [this.commands, this.bus]) connection.on('error', (error: unknown) => (this.lastError = error));
    this.bus.on('message', (_topic: string, payload: string) => this.onPayload(payload));
  }

  async connect(): Promise<void> {
    try {
      await Promise.all([this.commands.connect(), this.bus.connect()]);
      await this.bus.subscribe(this.topic());
    } catch (error) {
      this.commands.disconnect();
      this.bus.disconnect();
      throw error;
    }
    this.up = true;
    // Up only while both connections are: events published while the bus alone was away are missed, and presence must be resynced.
    for (const connection of [this.commands, this.bus]) {
      connection.on('close', () => this.state());
      connection.on('ready', () => this.state());
    }
  }

  async subscribe(channel: string): Promise<void> {
    await this.bus.subscribe(this.topic(channel));
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.bus.unsubscribe(this.topic(channel));
  }

  sendMessage(channel: string, payload: string): void {
    const { maxHistory, historyBytes } = this.options;
    const batch = this.commands.multi();
    // Lua's # counts bytes: so does this check. A payload bigger than a channel's whole budget is not kept.
    if (maxHistory > 0 && Buffer.byteLength(payload) <= historyBytes.channelBytes) {
      const { prefix } = this.options;
      const keys = [this.key('h', channel), `${prefix}:history:bytes`, `${prefix}:history:order`, `${prefix}:history:total`, `${prefix}:history:clock`];
      batch.eval(APPEND_HISTORY, keys.length, ...keys, channel, payload, maxHistory, historyBytes.channelBytes, historyBytes.totalBytes, this.key('h', ''));
    }
    this.send(batch.publish(this.topic(channel), payload));
  }

  sendPresence(channel: string, payload: string | undefined, entry: string): void {
    const batch = this.commands.multi().hset(this.key('p', channel), this.options.node, entry);
    this.send(payload === undefined ? batch : batch.publish(this.topic(channel), payload));
  }

  sendCluster(payload: string): void {
    this.commands.publish(this.topic(), payload).catch(() => {});
  }

  async heartbeat(payload: string): Promise<boolean> {
    const replies = await this.commands
      .multi()
      .set(this.key('node', this.options.node), '1', 'PX', this.options.nodeTtlMs, 'GET')
      .publish(this.topic(), payload)
      .exec();
    return replies?.[0]?.[1] === '1';
  }

  refresh(): void {
    this.commands.set(this.key('node', this.options.node), '1', 'PX', this.options.nodeTtlMs).catch(() => {});
  }

  async history(channel: string, limit: number): Promise<string[]> {
    return this.commands.lrange(this.key('h', channel), -limit, -1);
  }

  async presence(channel: string): Promise<Map<string, string>> {
    const entries = Object.entries(await this.commands.hgetall(this.key('p', channel)));
    if (entries.length === 0) return new Map();
    const alive = await this.commands.mget(entries.map(([node]) => this.key('node', node)));
    // Lists of nodes that died while nobody watched this channel: cleared by whoever reads them first.
    await Promise.all(entries.filter((_, i) => alive[i] === null).map(([node]) => this.forget(node, channel)));
    return new Map(entries.filter((_, i) => alive[i] !== null));
  }

  async forget(node: string, channel: string): Promise<void> {
    await this.commands.eval(FORGET, 2, this.key('p', channel), this.key('node', node), node);
  }

  async close(): Promise<void> {
    if (this.up) {
      // Bounded: a Redis that stopped answering must not hold up the shutdown.
      await within(this.commands.del(this.key('node', this.options.node)).catch(() => {}), 1_000, undefined);
      // QUIT goes after what is still queued (the last members' left events).
      await within(this.commands.quit().catch(() => {}), 1_000, undefined);
    }
    this.commands.disconnect();
    this.bus.disconnect();
  }

  private send(batch: ReturnType<Redis['multi']>): void {
    // Refused while Redis is away; the outage itself is logged once, by state().
    batch.exec().catch(() => {});
  }

  /** Told on changes only: ioredis says 'close' on every failed attempt. */
  private state(): void {
    const up = this.commands.status === 'ready' && this.bus.status === 'ready';
    if (up === this.up) return;
    this.up = up;
    this.onState(up, up ? undefined : this.lastError);
  }

  private key(kind: string, name: string): string {
    return `${this.options.prefix}:${kind}:${name}`;
  }

  private topic(channel?: string): string {
    return channel === undefined ? `${this.options.prefix}:cluster` : `${this.options.prefix}:c:${channel}`;
  }
}
