/**
 * Multi-node tests: resobridge server processes on one broker, and a broker
 * instance of the test's own (on a free port) that can be stopped and
 * restarted without disturbing the machine's shared Redis and NATS.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import { closedPort } from './fixtures.js';
import { spawnCli, TestClient, waitForOutput } from './helpers.js';
import { reachable } from './services.js';

/** Fast heartbeats, so a dead node is noticed within seconds (yet a busy test machine does not look dead). */
export const TIMING = 'heartbeatMs=200&nodeTtlMs=2000';
/** Longest a cluster-wide change may take to be seen; a safety net, not a timing assertion. */
const SETTLE_MS = 15_000;

export interface Engine {
  name: 'redis' | 'nats';
  /** The machine's shared instance. */
  port: number;
  url(port: number, prefix: string, timing?: string): string;
  /** Starts an instance of the test's own; `dir` keeps NATS's JetStream files across a restart. */
  spawn(port: number, dir: string): ChildProcess;
  /** Publishes raw bytes where a channel's messages travel, as a broken or hostile node would. */
  inject(port: number, prefix: string, channel: string, payload: string): Promise<void>;
  /** Removes what a test left in the shared instance. */
  cleanup(port: number, prefix: string): Promise<void>;
}

export const ENGINES: Engine[] = [
  {
    name: 'redis',
    port: 6379,
    url: (port, prefix, timing = TIMING) => `redis://127.0.0.1:${port}?prefix=${prefix}&${timing}`,
    spawn: (port) => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }),
    async inject(port, prefix, channel, payload) {
      const redis = new Redis(port, '127.0.0.1');
      await redis.publish(`${prefix}:c:${channel}`, payload);
      redis.disconnect();
    },
    async cleanup(port, prefix) {
      const redis = new Redis(port, '127.0.0.1');
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  },
  {
    name: 'nats',
    port: 4222,
    url: (port, prefix, timing = TIMING) => `nats://127.0.0.1:${port}?prefix=${prefix}&${timing}`,
    spawn: (port, dir) => spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' }),
    async inject(port, prefix, channel, payload) {
      const nc = await natsConnect({ servers: `127.0.0.1:${port}` });
      nc.publish(`${prefix}.c.${Buffer.from(channel).toString('base64url')}.m`, payload);
      await nc.drain();
    },
    async cleanup(port, prefix) {
      const nc = await natsConnect({ servers: `127.0.0.1:${port}` });
      const jsm = await nc.jetstreamManager();
      for (const stream of [`${prefix}_history`, `KV_${prefix}_presence`, `KV_${prefix}_nodes`]) await jsm.streams.delete(stream).catch(() => {});
      await nc.close();
    },
  },
];

let unique = 0;
/** A prefix no other test uses (tests run in parallel against the shared instances). */
function uniquePrefix(what: string): string {
  return `rbt_${what}_${process.pid}_${++unique}`;
}

export interface Node {
  port: number;
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far. */
  output(): string;
  connect(path: string): Promise<TestClient>;
}

/** Starts `count` server processes on one broker. */
export async function startNodes(t: TestContext, broker: string, count: number, env: Record<string, string> = {}): Promise<Node[]> {
  return Promise.all(Array.from({ length: count }, () => startNode(t, broker, env)));
}

async function startNode(t: TestContext, broker: string, env: Record<string, string>): Promise<Node> {
  const child = spawnCli(['serve', '--port', '0'], {
    RESOBRIDGE_BROKER: broker,
    RESOBRIDGE_CLOSE_LINGER_MS: '10',
    RESOBRIDGE_LOG_FORMAT: 'json',
    RESOBRIDGE_LOG_LEVEL: 'info',
    ...env,
  });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  let printed = '';
  child.stderr.on('data', (chunk) => (printed += String(chunk)));
  const { output, match } = await waitForOutput(child, /"urls":.*?ws:\/\/localhost:(\d+)\//);
  printed += output;
  child.stdout.on('data', (chunk) => (printed += String(chunk)));
  const port = Number(match[1]);
  return { port, child, output: () => printed, connect: (path) => TestClient.connect(t, `ws://127.0.0.1:${port}${path}`) };
}

/** `count` nodes on the machine's shared broker, under a prefix of their own that is cleared after the test. */
export async function startCluster(
  t: TestContext,
  engine: Engine,
  what: string,
  count: number,
  options: { timing?: string; env?: Record<string, string> } = {},
): Promise<Node[] & { prefix: string }> {
  const prefix = uniquePrefix(what);
  const nodes = await startNodes(t, engine.url(engine.port, prefix, options.timing), count, options.env);
  // Registered after the nodes' own: runs once they have exited and can write nothing more.
  t.after(() => engine.cleanup(engine.port, prefix));
  return Object.assign(nodes, { prefix });
}

/** A member of the channel on the first node that gets presence notices, once every node sees it. */
export async function watching(nodes: Node[], channel: string): Promise<TestClient> {
  const watcher = await nodes[0]!.connect(`/channel/${channel}?presence=1&name=Watcher`);
  await membersEverywhere(nodes, channel, ['Watcher']);
  return watcher;
}

/** Asks `ask()` again until its answer passes `check`; fails after SETTLE_MS with the last answer. */
export async function eventually<T>(ask: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + SETTLE_MS;
  let last: T | undefined;
  for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 200)) {
    last = await ask();
    if (check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${SETTLE_MS} ms`);
}

/** Waits until every node's `members` answer for the channel is `expected`. */
export async function membersEverywhere(nodes: Node[], channel: string, expected: string[]): Promise<void> {
  const want = `members|${channel}|${expected.length}|${expected.length}${expected.map((name) => `|${name}`).join('')}`;
  await Promise.all(
    nodes.map(async (node) => {
      const api = await node.connect('/api');
      await eventually(() => api.ask(`members|${channel}`), (answer) => answer === want, `members on node :${node.port}`).catch((error: Error) => {
        throw new Error(`${error.message}\nnode :${node.port} logged:\n${nodes.map((n) => n.output()).join('\n---\n')}`);
      });
      api.socket.close();
    }),
  );
}

/** Receives messages until one passes `check`, and returns it. */
export async function nextMatching(client: TestClient, check: (text: string) => boolean): Promise<string> {
  for (;;) {
    const text = await client.next();
    if (check(text)) return text;
  }
}

/** A broker instance of this test's own, on a free port, that can be stopped and started again. */
export async function ownBroker(t: TestContext, engine: Engine) {
  const port = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'resobridge-broker-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = engine.spawn(port, dir);
    await eventually(() => reachable(port), Boolean, `${engine.name} on port ${port} to accept connections`);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { port, start, stop };
}
