/**
 * The servers measured: resobridge, and the peers people would otherwise use.
 * Each runs as its own process on 127.0.0.1. A peer that is not installed is
 * skipped with the command that installs it; the bench installs nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Running {
  base: string;
  /** Every node's base and process, for a cluster (the first is `base` and `pid`). */
  nodes?: string[];
  pids?: number[];
  pid: number;
  /** The port the server's websocket bridge connects to, where the scenario runs the app (StartOptions.appBridge). */
  appPort?: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Server-side ping interval, where the server has one. */
  pingMs?: number;
  /** resobridge's --broker. */
  broker?: string;
  /** Keep the server's default inbound limits and pacing (the flood scenario); otherwise resobridge runs with them off. */
  defaultLimits?: boolean;
  /** A websocket bridge to a local app (the scenario starts the app), publishing into channel `fan`: raw, or JSONata-mapped. */
  appBridge?: 'raw' | 'mapped';
}

export interface Target {
  name: string;
  label: string;
  /** Undefined if it can run here, or how to install it. */
  missing(): string | undefined;
  start(options?: StartOptions): Promise<Running>;
  echoPath: string;
  /** Channel/broadcast path; undefined when the target cannot fan out. */
  channelPath?: (channel: string, echo: boolean) => string;
  /** Command-mode path (resobridge only). */
  commandPath?: string;
  /** Echo path for an app-like client while the server keeps its default limits; echoPath where the server has none. */
  limitedEchoPath?: string;
  /** Measured only in these scenarios. */
  onlyIn?: string[];
}

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = ['--import', 'tsx'];
const builtCli = join(root, 'dist', 'cli', 'main.js');
let built = false;

/** resobridge is measured as built (dist/), as `npm start` runs it: the build is brought up to date once per bench run. */
function buildOnce(): void {
  if (built) return;
  const result = spawnSync(process.execPath, ['scripts/build.js'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed: resobridge cannot be measured');
  built = true;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts a process and waits for `ready` in its output (or a TCP accept, for programs that print nothing). */
async function launch(command: string, args: string[], port: number, ready: RegExp | 'tcp'): Promise<Running> {
  const child: ChildProcess = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => (output += String(chunk));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 60_000;
  while (ready === 'tcp' ? !(await accepts(port)) : !ready.test(output)) {
    if (child.exitCode !== null) throw new Error(`${command} exited before it was ready:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${command} was not ready within 60 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.stdout?.off('data', collect);
  child.stderr?.off('data', collect);
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    base: `ws://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const has = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

export const resobridge: Target = {
  name: 'resobridge',
  label: 'resobridge',
  missing: () => undefined,
  async start(options = {}) {
    buildOnce();
    const port = await freePort();
    const folder = mkdtempSync(join(tmpdir(), 'resobridge-bench-'));
    const store = `sqlite:${join(folder, 'bench.db')}`;
    // The load generator's clients are apps, not worlds: pacing and inbound limits off (documented options).
    // The build, as `resobridge serve` runs: tsx's transform would add to every named closure.
    const args = [builtCli, 'serve', '--port', String(port), '--store', store, '--log-level', 'warn'];
    if (!options.defaultLimits) {
      args.push('--max-outbound-rate', '0', '--inbound-rate', '0', '--inbound-bytes-rate', '0', '--address-inbound-rate', '0',
        '--handshake-rate', '0', '--max-connections-per-address', '1000000', '--max-pending-sockets-per-address', '1000000', '--max-connections', '1000000');
    }
    if (options.pingMs) args.push('--ping-interval-ms', String(options.pingMs));
    if (options.broker) args.push('--broker', options.broker);
    const appPort = options.appBridge ? await freePort() : undefined;
    if (appPort) args.push('--config', appBridgeConfig(folder, appPort, options.appBridge === 'mapped'));
    return { ...(await launch(process.execPath, args, port, 'tcp')), appPort };
  },
  echoPath: '/echo?rate=0',
  channelPath: (channel, echo) => `/channel/${channel}?rate=0${echo ? '&echo=1' : ''}`,
  commandPath: '/api?rate=0',
  // An app may ask for up to maxOutboundRate (1000 by default).
  limitedEchoPath: '/echo?rate=1000',
};

/** A config file with one websocket bridge to the app on `appPort`, into channel `fan`; mapped: a filter and three fields picked, as a typical in mapping. */
function appBridgeConfig(folder: string, appPort: number, mapped: boolean): string {
  const bridge = {
    type: 'websocket',
    name: 'bench-app',
    url: `ws://127.0.0.1:${appPort}/`,
    channel: 'fan',
    ping: 0,
    ...(mapped ? { in: { when: 'type = "tick"', lines: '[t, type, pad]' } } : {}),
  };
  const file = join(folder, 'bridge.json');
  writeFileSync(file, JSON.stringify({ bridges: [bridge] }));
  return file;
}

/** resobridge with its websocket bridge mapping the app's JSON with JSONata, against raw payloads (resobridge itself, in that scenario). */
export const resobridgeMapped: Target = {
  ...resobridge,
  name: 'resobridge-mapped',
  label: 'resobridge, JSONata-mapped',
  start: (options = {}) => resobridge.start({ ...options, appBridge: options.appBridge && 'mapped' }),
  commandPath: undefined,
  onlyIn: ['ws-bridge'],
};

/** resobridge with outbound pacing on (at a rate the load never reaches), to measure what pacing costs. */
export const resobridgePaced: Target = {
  ...resobridge,
  name: 'resobridge-paced',
  label: 'resobridge, paced',
  echoPath: '/echo?rate=100000',
  channelPath: (channel, echo) => `/channel/${channel}?rate=100000${echo ? '&echo=1' : ''}`,
  commandPath: undefined,
  onlyIn: ['pacing'],
};

/** Three resobridge nodes on one broker, for the cluster scenario; the prefix is fixed so runs reuse (not pile up) its keys. */
function resobridgeCluster(engine: 'redis' | 'nats', port: number): Target {
  return {
    ...resobridge,
    name: `resobridge-${engine}`,
    label: `resobridge, 3 nodes via ${engine === 'redis' ? 'Redis' : 'NATS'}`,
    missing: () => (listening(port) ? undefined : `start ${engine === 'redis' ? 'redis-server' : 'nats-server -js'} on 127.0.0.1:${port}`),
    async start(options) {
      const nodes = await Promise.all([0, 1, 2].map(() => resobridge.start({ ...options, broker: `${engine}://127.0.0.1:${port}?prefix=rbbench` })));
      return {
        base: nodes[0]?.base ?? '',
        nodes: nodes.map((node) => node.base),
        pid: nodes[0]?.pid ?? 0,
        pids: nodes.map((node) => node.pid),
        stop: async () => {
          await Promise.all(nodes.map((node) => node.stop()));
        },
      };
    },
    commandPath: undefined,
    onlyIn: ['cluster'],
  };
}

/** Something accepts TCP on the port (checked synchronously: `missing` is). */
function listening(port: number): boolean {
  const probe = `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
  return has(process.execPath, ['-e', probe]);
}

export const wsMinimal: Target = {
  name: 'ws',
  label: 'minimal ws',
  missing: () => undefined,
  async start(options = {}) {
    const port = await freePort();
    return launch(process.execPath, [...tsx, 'bench/peers/ws-minimal.ts', String(port), String(options.pingMs ?? 0)], port, /ready/);
  },
  echoPath: '/echo',
  channelPath: (channel, echo) => `/channel/${channel}${echo ? '?echo=1' : ''}`,
};

export const websocketd: Target = {
  name: 'websocketd',
  label: 'websocketd cat',
  missing: () => (has('websocketd', ['--version']) ? undefined : 'install it with: apt-get install -y websocketd'),
  async start() {
    const port = await freePort();
    return launch('websocketd', ['--address=127.0.0.1', `--port=${port}`, '--loglevel=error', 'cat'], port, 'tcp');
  },
  echoPath: '/',
};

export const python: Target = {
  name: 'python',
  label: 'Python websockets',
  missing: () =>
    has('/usr/bin/python3', ['-c', 'import websockets']) ? undefined : 'install it with: apt-get install -y python3-websockets',
  async start(options = {}) {
    const port = await freePort();
    return launch('/usr/bin/python3', ['bench/peers/py_server.py', String(port), String((options.pingMs ?? 20_000) / 1000)], port, /ready/);
  },
  echoPath: '/echo',
  channelPath: (channel, echo) => `/channel/${channel}${echo ? '?echo=1' : ''}`,
};

export const allTargets = [resobridge, resobridgePaced, resobridgeMapped, resobridgeCluster('redis', 6379), resobridgeCluster('nats', 4222), wsMinimal, websocketd, python];
