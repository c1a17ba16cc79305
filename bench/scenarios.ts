/** The scenarios: what load each one puts on a server, and which figures it reads. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from './jobs.js';
import { runJobs, shares, type Outcome } from './loadgen.js';
import { cpuMs, rssBytes } from './proc.js';
import type { Running, StartOptions, Target } from './targets.js';

export interface Figures {
  /** Echoes, deliveries, connects or commands per second. */
  perSecond?: number;
  p50?: number;
  p99?: number;
  connections?: number;
  failures?: number;
  rssPerConnectionKiB?: number;
  /** Server CPU per ping round over all idle connections, in ms. */
  keepaliveMsPerRound?: number;
  /** Share of one core the server used during the window. */
  serverCpuPercent?: number;
  /** Messages per second of server CPU: capacity, independent of how hard the load generator could push. */
  perCpuSecond?: number;
  /** Flood messages sent per second (the flood scenario). */
  floodPerSecond?: number;
  /** Server CPU per flood message sent, in µs (the flood scenario): low when the server reads a flooder only at its allowance. */
  floodCpuUsPerMessage?: number;
}

/** The figures every throughput scenario reports. */
function throughput(outcome: Outcome): Figures {
  const cpu = outcome.serverCpuMs;
  return {
    perSecond: outcome.perSecond,
    p50: outcome.p50,
    p99: outcome.p99,
    failures: outcome.failures,
    serverCpuPercent: cpu === undefined ? undefined : (cpu / outcome.elapsedMs) * 100,
    perCpuSecond: cpu ? outcome.completed / (cpu / 1000) : undefined,
  };
}

export interface Timing {
  durationMs: number;
  warmupMs: number;
  /** Idle connections and connect-storm size. */
  idleConnections: number;
  stormConnections: number;
}

export interface Scenario {
  id: string;
  title: string;
  unit: string;
  /** In quick mode too? */
  quick: boolean;
  applies(target: Target): boolean;
  startOptions?: StartOptions;
  measure(target: Target, running: Running, timing: Timing): Promise<Figures>;
}

const WORKERS = 2;

function echo(size: number, quick: boolean): Scenario {
  return {
    id: `echo-${size}`,
    title: `echo, ${size} B: 50 connections × 10 in flight`,
    unit: 'echoes/s',
    quick,
    applies: () => true,
    async measure(target, running, timing) {
      const jobs: Job[] = shares(50, WORKERS).map((connections) => ({ kind: 'echo', url: running.base + target.echoPath, connections, inFlight: 10, size }));
      return throughput(await runJobs(jobs, { ...timing, serverPid: running.pid }));
    },
  };
}

function fanout(subscribers: number, size: number, quick: boolean): Scenario {
  return {
    id: `fanout-${subscribers}-${size}`,
    title: `fan-out, ${size} B: 1 publisher → ${subscribers} subscribers`,
    unit: 'deliveries/s',
    quick,
    applies: (target) => target.channelPath !== undefined,
    async measure(target, running, timing) {
      const path = target.channelPath as NonNullable<Target['channelPath']>;
      const jobs: Job[] = shares(subscribers, WORKERS).map((count, index) => ({
        kind: 'fanout',
        url: running.base + path('fan', false),
        subscribers: count,
        publisherUrl: index === 0 ? running.base + path('fan', true) : undefined,
        window: 20,
        size,
      }));
      return throughput(await runJobs(jobs, { ...timing, serverPid: running.pid }));
    },
  };
}

function publishers(size: number, quick: boolean): Scenario {
  return {
    id: `publishers-${size}`,
    title: `many publishers, ${size} B: 200 connections in 20 channels, all publishing`,
    unit: 'deliveries/s',
    quick,
    applies: (target) => target.channelPath !== undefined,
    async measure(target, running, timing) {
      const path = target.channelPath as NonNullable<Target['channelPath']>;
      const urls = Array.from({ length: 200 }, (_, i) => running.base + path(`room${i % 20}`, true));
      const jobs: Job[] = [urls.filter((_, i) => i % 2 === 0), urls.filter((_, i) => i % 2 === 1)].map((part) => ({
        kind: 'publishers',
        urls: part,
        window: 2,
        size,
      }));
      return throughput(await runJobs(jobs, { ...timing, serverPid: running.pid }));
    },
  };
}

/**
 * Fan-out across nodes: 1 publisher on the first node, 100 subscribers on
 * each of 3 nodes sharing a broker (Redis, NATS); the reference is one node
 * with all 300. The publisher's window is freed by a subscriber on the last
 * node, so it measures delivery through the broker, not just locally.
 */
const cluster: Scenario = {
  id: 'cluster',
  title: 'cluster fan-out, 64 B: 1 publisher → 3 nodes × 100 subscribers (one node with 300 for reference)',
  unit: 'deliveries/s',
  quick: true,
  // The paced target is kept to its own scenario by onlyIn.
  applies: (target) => target.name.startsWith('resobridge'),
  async measure(target, running, timing) {
    const path = target.channelPath as NonNullable<Target['channelPath']>;
    const nodes = running.nodes ?? [running.base, running.base, running.base];
    const jobs: Job[] = nodes.map((base, index) => ({
      kind: 'fanout',
      url: base + path('fan', false),
      subscribers: 100,
      publisherUrl: index === 0 ? base + path('fan', false) : undefined,
      confirmUrl: index === 0 ? nodes.at(-1) + path('fan', false) : undefined,
      window: 20,
      size: 64,
    }));
    return throughput(await runJobs(jobs, { ...timing, serverPid: running.pids ?? running.pid }));
  },
};

/** Idle connections: server memory per connection, and the CPU its keepalive pings cost (pinging every second). */
const idle: Scenario = {
  id: 'idle',
  title: 'idle connections: server RSS per connection, keepalive CPU per ping round',
  unit: 'KiB/conn',
  quick: true,
  // websocketd runs one process per connection: 10,000 of them is not a fair fight on 2 cores.
  applies: (target) => target.name !== 'websocketd',
  startOptions: { pingMs: 1_000 },
  async measure(target, running, timing) {
    await sleep(300);
    const before = rssBytes(running.pid);
    let figures: Figures = {};
    const jobs: Job[] = shares(timing.idleConnections, WORKERS).map((connections) => ({
      kind: 'idle',
      url: running.base + target.echoPath,
      connections,
      concurrency: 100,
    }));
    const outcome = await runJobs(jobs, { durationMs: 0, warmupMs: 0, whenReady: async () => {
      await sleep(1_000);
      const after = rssBytes(running.pid);
      const cpuBefore = cpuMs(running.pid);
      await sleep(3_000);
      const rounds = 3;
      figures = {
        rssPerConnectionKiB: (after - before) / 1024 / Math.max(1, timing.idleConnections),
        keepaliveMsPerRound: (cpuMs(running.pid) - cpuBefore) / rounds,
      };
    } });
    return { ...figures, connections: outcome.connections, failures: outcome.failures };
  },
};

const storm: Scenario = {
  id: 'storm',
  title: 'connect storm: connections opened as fast as possible (100 at a time per thread, after an untimed quarter as many)',
  unit: 'connects/s',
  quick: true,
  applies: (target) => target.name !== 'websocketd',
  async measure(target, running, timing) {
    // A quarter as many again first, untimed, as every other scenario warms up before its window.
    const warmups = shares(Math.round(timing.stormConnections / 4), WORKERS);
    const jobs: Job[] = shares(timing.stormConnections, WORKERS).map((connections, index) => ({
      kind: 'storm',
      url: running.base + target.echoPath,
      connections,
      warmup: warmups[index] ?? 0,
      concurrency: 100,
    }));
    const outcome = await runJobs(jobs, { durationMs: 0, warmupMs: 0 });
    const timed = outcome.connections - warmups.reduce((sum, count) => sum + count, 0);
    return { perSecond: timed / (outcome.stormMs / 1000), connections: outcome.connections, failures: outcome.failures };
  },
};

const command: Scenario = {
  id: 'command',
  title: 'command mode: set/get round trips, SQLite store, 20 connections × 5 in flight',
  unit: 'commands/s',
  quick: true,
  applies: (target) => target.commandPath !== undefined,
  async measure(target, running, timing) {
    const jobs: Job[] = shares(20, WORKERS).map((connections) => ({
      kind: 'command',
      url: running.base + (target.commandPath ?? ''),
      connections,
      inFlight: 5,
    }));
    return throughput(await runJobs(jobs, { ...timing, serverPid: running.pid }));
  },
};

/**
 * A well-behaved client (one echo at a time, at most 50 a second: within every default limit) while 50 flooders,
 * each from its own loopback address, send to the echo endpoint as fast as they can. resobridge keeps its default
 * limits; the minimal ws server has none. The figures are the well-behaved client's latency (p50, p99).
 */
const flood: Scenario = {
  id: 'flood',
  title: 'flood: a well-behaved client (≤ 50 echoes/s, 64 B) while 50 addresses flood the server; resobridge with default limits',
  unit: 'echoes/s',
  quick: true,
  applies: (target) => target.name === 'resobridge' || target.name === 'ws' || target.name === 'python',
  startOptions: { defaultLimits: true },
  async measure(target, running, timing) {
    const jobs: Job[] = [
      { kind: 'steady', url: running.base + (target.limitedEchoPath ?? target.echoPath), intervalMs: 20, size: 64 },
      { kind: 'flood', url: running.base + target.echoPath.replace(/\?.*$/, ''), connections: 50, firstAddress: 10, size: 64 },
    ];
    const outcome = await runJobs(jobs, { ...timing, serverPid: running.pid });
    const floodSent = (outcome.sentPerSecond * outcome.elapsedMs) / 1000;
    const floodCpuUsPerMessage = outcome.serverCpuMs !== undefined && floodSent > 0 ? (outcome.serverCpuMs * 1000) / floodSent : undefined;
    return { ...throughput(outcome), floodPerSecond: outcome.sentPerSecond, floodCpuUsPerMessage };
  },
};

/** Fan-out to 100 with pacing on at a rate the load never reaches: the cost of the pacer itself. */
const pacing: Scenario = {
  ...fanout(100, 64, true),
  id: 'pacing',
  title: 'pacing cost: fan-out, 64 B, 1 → 100, unpaced vs paced (rate=100000, never reached)',
  applies: (target) => target.name.startsWith('resobridge'),
};

/**
 * JSON messages from a local app through the websocket bridge, fanned out to 100 subscribers: raw payloads
 * (target resobridge) against the same messages mapped to lines by JSONata (target resobridge-mapped).
 * The app keeps 20 messages not yet seen by an extra subscriber, as the fan-out publisher does.
 */
const wsBridge: Scenario = {
  id: 'ws-bridge',
  title: 'websocket bridge, 64 B JSON from a local app → 100 subscribers: raw payloads vs mapped by JSONata',
  unit: 'deliveries/s',
  quick: true,
  applies: (target) => target.name === 'resobridge' || target.name === 'resobridge-mapped',
  startOptions: { appBridge: 'raw' },
  async measure(target, running, timing) {
    const path = target.channelPath as NonNullable<Target['channelPath']>;
    const url = running.base + path('fan', false);
    const jobs: Job[] = shares(100, WORKERS).map((subscribers, index) =>
      index === 0
        ? { kind: 'app', port: running.appPort ?? 0, url, subscribers, window: 20, size: 64 }
        : { kind: 'fanout', url, subscribers, window: 20, size: 64 },
    );
    return throughput(await runJobs(jobs, { ...timing, serverPid: running.pid }));
  },
};

export const scenarios: Scenario[] = [
  echo(64, true),
  echo(1024, false),
  fanout(100, 64, true),
  fanout(100, 1024, false),
  fanout(1000, 64, false),
  fanout(1000, 1024, false),
  publishers(64, true),
  publishers(1024, false),
  pacing,
  wsBridge,
  cluster,
  // Before idle: tearing down idle's 10,000 connections keeps the kernel busy for a while, and the first server measured after it paid for that.
  storm,
  idle,
  command,
  flood,
];
