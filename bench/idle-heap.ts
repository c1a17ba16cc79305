/**
 * What one idle connection costs, object by object: opens N idle connections
 * to a server in this process (resobridge as `serve` runs it, or the bare ws
 * floor), collects garbage, and diffs two heap snapshots by constructor.
 * The bench measures RSS; this says where it goes. It runs the build
 * (dist/, as `resobridge serve` does; npm run build first), not the sources
 * through tsx, whose transform adds to every named closure.
 *
 *   node --expose-gc --import tsx bench/idle-heap.ts [--connections 10000] [--target resobridge|ws] [--path /echo?rate=0] [--owners]
 *
 * --owners files each object under what holds it (slower, but says whose it is).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { WebSocketServer } from 'ws';

const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    target: { type: 'string', default: 'resobridge' },
    path: { type: 'string', default: '/echo?rate=0' },
    top: { type: 'string', default: '25' },
    owners: { type: 'boolean', default: false },
    depth: { type: 'string', default: '1' },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const connections = Number(flags.connections);

/** The server under test, in this process (so its heap is this heap); resolves to its port and a stop. */
async function start(): Promise<{ port: number; stop: () => Promise<void> }> {
  if (flags.target === 'ws') {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    await once(wss, 'listening');
    return { port: (wss.address() as { port: number }).port, stop: () => new Promise((resolve) => wss.close(() => resolve())) };
  }
  // The build, by a path TypeScript does not resolve (dist/ may not exist when the bench is type-checked).
  const built = new URL('../dist/index.js', import.meta.url).href;
  const { createServer } = (await import(built)) as typeof import('../src/index.js');
  const server = createServer({
    port: 0, logLevel: 'warn', store: 'memory', inboundRate: 0, inboundBytesRate: 0, addressInboundRate: 0, handshakeRate: 0,
    maxConnectionsPerAddress: 1_000_000, maxPendingSocketsPerAddress: 1_000_000, maxConnections: 1_000_000, maxOutboundRate: 0,
  });
  const { port } = await server.listen();
  return { port, stop: () => server.close() };
}

/** Opens the connections from a child process: its heap is not in this one's snapshot, and its sockets not in this one's file limit. */
async function openClients(url: string, count: number): Promise<ChildProcess> {
  const code = `const WebSocket = require('ws');
    let open = 0, next = 0;
    const lane = () => { if (next >= ${count}) return; next++;
      const socket = new WebSocket(${JSON.stringify(url)}, { perMessageDeflate: false });
      socket.once('open', () => { if (++open === ${count}) console.log('open'); lane(); });
      socket.once('error', (error) => console.log('failed: ' + error.message)); };
    for (let i = 0; i < 100; i++) lane();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  if (String(line).trim() !== 'open') throw new Error(String(line));
  return child;
}

interface Census {
  /** Self bytes and count by "type name". */
  byKind: Map<string, { count: number; bytes: number }>;
  total: number;
}

/** Collects garbage and writes a heap snapshot to a file (read later, so reading one is not in the next). */
function snapshotFile(): string {
  gc?.();
  gc?.();
  return writeHeapSnapshot(join(folder, `${Date.now()}-${Math.random()}.heapsnapshot`));
}

/** A heap snapshot summed by node type and constructor name. */
function census(file: string): Census {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  const kindOf = (i: number) => {
    const type = types[snapshot.nodes[i + typeAt] ?? 0] ?? '?';
    const name = type === 'string' || type === 'number' || type === 'code' ? '' : (snapshot.strings[snapshot.nodes[i + nameAt] ?? 0] ?? '?').slice(0, 60);
    return `${type} ${name}`.trim();
  };
  // With --owners, each object is filed under the first object that holds it (by a strong edge) and the edge's name.
  const owner = new Map<number, string>();
  const parent = new Map<number, number>();
  if (flags.owners) {
    const { edge_fields: edgeFields, edge_types: [edgeTypes] } = snapshot.snapshot.meta;
    const countAt = fields.indexOf('edge_count');
    let edge = 0;
    for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
      for (let e = 0; e < (snapshot.nodes[i + countAt] ?? 0); e++, edge += edgeFields.length) {
        const edgeType = edgeTypes[snapshot.edges[edge] ?? 0];
        if (edgeType === 'weak' || edgeType === 'shortcut') continue;
        const target = snapshot.edges[edge + 2] ?? 0;
        if (owner.has(target)) continue;
        const nameOrIndex = snapshot.edges[edge + 1] ?? 0;
        const label = edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : (snapshot.strings[nameOrIndex] ?? '?');
        owner.set(target, `${kindOf(i)}.${label}`);
        parent.set(target, i);
      }
    }
  }
  const byKind = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const bytes = snapshot.nodes[i + sizeAt] ?? 0;
    let chain = owner.get(i) ?? 'root';
    for (let up = parent.get(i), depth = 1; up !== undefined && depth < Number(flags.depth); up = parent.get(up), depth++) chain += ` ← ${owner.get(up) ?? 'root'}`;
    const key = flags.owners ? `${kindOf(i)} ← ${chain}` : kindOf(i);
    const entry = byKind.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += bytes;
    byKind.set(key, entry);
    total += bytes;
  }
  return { byKind, total };
}

const folder = mkdtempSync(join(tmpdir(), 'resobridge-heap-'));
const server = await start();
gc();
const memoryBefore = process.memoryUsage();
const beforeFile = snapshotFile();
const clients = await openClients(`ws://127.0.0.1:${server.port}${flags.path}`, connections);
await new Promise((resolve) => setTimeout(resolve, 1_000));
gc();
const memoryAfter = process.memoryUsage();
const afterFile = snapshotFile();
const before = census(beforeFile);
const after = census(afterFile);
rmSync(folder, { recursive: true, force: true });

const perConnection = (bytes: number) => `${(bytes / connections).toFixed(0)} B`;
console.log(`${flags.target} ${flags.path}: ${connections} idle connections`);
console.log(`  heap (snapshot, live objects) per connection: ${perConnection(after.total - before.total)}`);
console.log(`  after a full GC, per connection: heapUsed ${perConnection(memoryAfter.heapUsed - memoryBefore.heapUsed)}, external ${perConnection(memoryAfter.external - memoryBefore.external)}, RSS ${perConnection(memoryAfter.rss - memoryBefore.rss)}`);
const grown = [...after.byKind]
  .map(([kind, entry]) => {
    const old = before.byKind.get(kind) ?? { count: 0, bytes: 0 };
    return { kind, count: entry.count - old.count, bytes: entry.bytes - old.bytes };
  })
  .filter((entry) => entry.bytes > 0)
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, Number(flags.top));
console.log('  per connection, by kind:   objects     bytes');
for (const entry of grown) console.log(`  ${entry.kind.padEnd(flags.owners ? 90 : 40)} ${(entry.count / connections).toFixed(2).padStart(6)} ${(entry.bytes / connections).toFixed(0).padStart(8)}`);
clients.kill();
await server.stop();
