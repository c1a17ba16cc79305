/** Floods, kill -9 and shutdown under load: facts that hold whatever the machine's load, with every message counted. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { spawnCli, startServer, TestClient, waitForOutput } from './helpers.js';

const FLOODERS = 50;
/** Each flooder's whole flood: far more than its allowance, so every one of them keeps at it. */
const FLOOD_PER_CLIENT = 2_000;
const INBOUND_RATE = 20;

/**
 * The flooders, on a thread of their own so the test's event loop stays free: each connects from its own
 * loopback address (127.0.0.10 + i) and sends FLOOD_PER_CLIENT messages as fast as its socket takes them.
 */
const FLOODER = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require('ws');
const { url, count, perClient } = workerData;
let sent = 0, closed = 0, opened = 0;
const sockets = Array.from({ length: count }, (_, i) => {
  const socket = new WebSocket(url, { localAddress: '127.0.0.' + (10 + i) });
  socket.sent = 0;
  return socket;
});
const finish = () => parentPort.postMessage({ type: 'done', sent, closed });
for (const socket of sockets) {
  socket.on('error', () => {});
  socket.on('close', () => { if (++closed === count) finish(); });
  socket.on('open', () => {
    if (++opened < count) return;
    parentPort.postMessage({ type: 'open' });
    const pump = () => {
      for (const s of sockets) {
        for (let i = 0; i < 20 && s.readyState === 1 && s.sent < perClient && s.bufferedAmount < 1 << 20; i++) {
          s.send('flood ' + s.sent++);
          sent++;
        }
      }
      if (sockets.some((s) => s.readyState === 1 && s.sent < perClient)) setImmediate(pump);
    };
    pump();
  });
}
`;

test('a flood from 50 addresses: a well-behaved client gets every reply in order, flooders get no more than their allowance and are closed', { timeout: 90_000 }, async (t) => {
  const { ws } = await startServer(t, { inboundRate: INBOUND_RATE, maxOutboundRate: 0 });
  const good = await TestClient.connect(t, ws('/api'));
  // Counts every flood message the server let through: the channel relays each one to this member, unpaced.
  const observer = await TestClient.connect(t, ws('/channel/flood?rate=0'));
  let relayed = 0;
  observer.socket.on('message', (data) => {
    const dropped = /^dropped\|(\d+)$/.exec(String(data));
    relayed += dropped ? Number(dropped[1]) : 1;
  });
  const started = performance.now();
  const flooder = new Worker(FLOODER, { eval: true, workerData: { url: ws('/channel/flood'), count: FLOODERS, perClient: FLOOD_PER_CLIENT } });
  t.after(() => flooder.terminate());
  const [opened] = (await once(flooder, 'message')) as [{ type: string }];
  assert.equal(opened.type, 'open');
  let flooding = true;
  const finished = (once(flooder, 'message') as Promise<[{ sent: number; closed: number }]>).then(([result]) => {
    flooding = false;
    return result;
  });
  let asked = 0;
  let duringFlood = 0;
  while (flooding || asked < 20) {
    // Well-behaved: one request at a time, at most 10 a second (within its inbound limit of INBOUND_RATE).
    const spaced = sleep(100);
    if (flooding) duringFlood++;
    assert.equal(await good.ask(`ping#${asked}`), `pong#${asked}`, 'every request answered, in order');
    asked++;
    await spaced;
  }
  const { sent, closed } = await finished;
  // Whatever the machine's speed, a token bucket cannot let through more than its burst plus its rate over the time elapsed.
  const elapsedSeconds = (performance.now() - started) / 1000;
  const allowance = FLOODERS * (2 * INBOUND_RATE + INBOUND_RATE * elapsedSeconds);
  assert.equal(await good.ask('ping#last'), 'pong#last');
  assert.ok(duringFlood > 0, 'the well-behaved client asked during the flood');
  assert.equal(closed, FLOODERS, 'every flooder kept at it and was closed');
  assert.ok(relayed <= allowance, `the server let through ${relayed} flood messages; the flooders' allowance was ${Math.floor(allowance)}`);
  assert.ok(relayed > 0, 'the flooders\' allowance was let through');
  t.diagnostic(`${asked} round trips (${duringFlood} during the flood); ${relayed} of ${sent} flood messages let through (allowance ${Math.floor(allowance)}); ${closed} of ${FLOODERS} flooders closed`);
});

const appFlags = ['--max-outbound-rate', '0', '--inbound-rate', '0', '--inbound-bytes-rate', '0', '--address-inbound-rate', '0', '--close-linger-ms', '20'];

async function serve(t: TestContext, store: string) {
  const child = spawnCli(['serve', '--port', '0', '--store', store, ...appFlags]);
  t.after(() => child.kill('SIGKILL'));
  const { match } = await waitForOutput(child, /ws:\/\/localhost:(\d+)\/api/);
  return { child, url: `ws://127.0.0.1:${match[1]}/api?rate=0` };
}

/** Streams `set|<prefix><n>|<n>` with `window` in flight; records each acknowledged n until the connection ends. */
function streamSets(client: TestClient, prefix: string, window: number, acked: Set<number>): Promise<void> {
  let next = 0;
  const sendOne = () => client.socket.send(`set|${prefix}${next}|${next++}`);
  client.socket.on('message', (data) => {
    const match = new RegExp(`^ok\\|set\\|${prefix}(\\d+)$`).exec(String(data));
    if (!match) return;
    acked.add(Number(match[1]));
    if (client.socket.readyState === client.socket.OPEN && next < 100_000) sendOne();
  });
  for (let i = 0; i < window; i++) sendOne();
  return client.closed.then(() => undefined);
}

/** Every acknowledged key is in the store after a restart. */
async function assertAllPresent(t: TestContext, url: string, prefix: string, acked: Set<number>): Promise<void> {
  const reader = await TestClient.connect(t, url);
  const keys = [...acked];
  for (let start = 0; start < keys.length; start += 200) {
    const batch = keys.slice(start, start + 200);
    for (const n of batch) reader.send(`get|${prefix}${n}`);
    for (const n of batch) assert.equal(await reader.next(), `value|${prefix}${n}|${n}`);
  }
}

test('kill -9 during a stream of sets: after restart every acknowledged write is there', { timeout: 60_000 }, async (t) => {
  const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'resobridge-kill-')), 'kv.db')}`;
  const first = await serve(t, store);
  const writer = await TestClient.connect(t, first.url);
  const acked = new Set<number>();
  const streaming = streamSets(writer, 'k', 20, acked);
  while (acked.size < 2_000) await once(writer.socket, 'message');
  first.child.kill('SIGKILL');
  await streaming;
  const second = await serve(t, store);
  await assertAllPresent(t, second.url, 'k', acked);
  assert.ok(acked.size >= 2_000, `${acked.size} acknowledged writes checked`);
  t.diagnostic(`${acked.size} acknowledged writes, all present after kill -9`);
});

test('graceful shutdown under load: every client gets 1001 and no acknowledged write is lost', { timeout: 60_000 }, async (t) => {
  const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'resobridge-stop-')), 'kv.db')}`;
  const first = await serve(t, store);
  const writers = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(t, first.url)));
  const acked = writers.map(() => new Set<number>());
  const streaming = writers.map((writer, i) => streamSets(writer, `w${i}-`, 10, acked[i] as Set<number>));
  while (acked.reduce((sum, set) => sum + set.size, 0) < 2_000) await once(writers[0]?.socket as never, 'message');
  const exited = once(first.child, 'exit');
  first.child.kill('SIGTERM');
  await Promise.all(streaming);
  for (const writer of writers) assert.equal((await writer.closed).code, 1001);
  assert.deepEqual(await exited, [0, null]);
  const second = await serve(t, store);
  for (const [i, set] of acked.entries()) await assertAllPresent(t, second.url, `w${i}-`, set);
  t.diagnostic(`${acked.reduce((sum, set) => sum + set.size, 0)} acknowledged writes from 10 clients, all present after SIGTERM`);
});
