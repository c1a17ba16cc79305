/**
 * Picks the broker driver from the `broker` setting: `memory` (one node),
 * `redis://…` / `rediss://…`, or `nats://…`. Cluster options ride in the
 * URL's query and are taken out before the URL reaches the client library:
 * `prefix` (keys and subjects, default resobridge), `heartbeatMs` (default
 * 2000) and `nodeTtlMs` (default 3 heartbeats).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.js';
import { ConfigError } from '../config/errors.js';
import type { Broker } from './broker.js';
import { ClusterBroker } from './cluster-broker.js';
import type { Transport, TransportOptions } from './cluster-transport.js';
import { MemoryBroker, type HistoryBudget } from './memory-broker.js';
import { NatsTransport } from './nats-broker.js';
import { RedisTransport } from './redis-broker.js';

const DEFAULT_HEARTBEAT_MS = 2_000;
const PREFIX = /^[A-Za-z0-9_-]{1,40}$/;

/** How much channel history to keep: messages per channel, bytes per channel and over all channels. */
export interface HistoryLimits {
  maxHistory: number;
  budget: Pick<HistoryBudget, 'totalBytes' | 'channelBytes'>;
}

export function createBroker(setting: string, { maxHistory, budget }: HistoryLimits, log: Logger): Broker {
  if (setting === 'memory') return new MemoryBroker(maxHistory, budget);
  const url = new URL(setting);
  const option = (name: string, fallback: number) => {
    const value = url.searchParams.get(name);
    url.searchParams.delete(name);
    if (value === null) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 10) throw new ConfigError(`The broker URL's ${name}=${value} is not a whole number of milliseconds (10 or more).`);
    return number;
  };
  const prefix = url.searchParams.get('prefix') ?? 'resobridge';
  url.searchParams.delete('prefix');
  if (!PREFIX.test(prefix)) throw new ConfigError(`The broker URL's prefix=${prefix} may only have letters, digits, _ and - (up to 40).`);
  const heartbeatMs = option('heartbeatMs', DEFAULT_HEARTBEAT_MS);
  const nodeTtlMs = option('nodeTtlMs', 3 * heartbeatMs);
  if (nodeTtlMs <= heartbeatMs) throw new ConfigError(`The broker URL's nodeTtlMs (${nodeTtlMs}) must be longer than heartbeatMs (${heartbeatMs}), e.g. 3 times.`);
  const options: TransportOptions = { prefix, node: nodeId(), nodeTtlMs, maxHistory, historyBytes: budget };
  const target = url.toString();
  const transport: Transport = url.protocol.startsWith('nats') || url.protocol === 'tls:' ? new NatsTransport(target, options) : new RedisTransport(target, options);
  return new ClusterBroker(transport, options.node, { heartbeatMs, nodeTtlMs }, log);
}

/** Unique per process, and fit for a NATS key and a Redis key alike. */
function nodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 30);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

