import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

/** Reads until `done` says so; returns everything read. */
async function readUntil(client: TestClient, done: (received: string[]) => boolean): Promise<string[]> {
  const received: string[] = [];
  while (!done(received)) received.push(await client.next());
  return received;
}

const unlimitedInbound = { inboundRate: 0, inboundBytesRate: 0, addressInboundRate: 0 };

test('a world gets channel traffic at its rate; overflow drops oldest-first and says how many', async (t) => {
  const { ws } = await startServer(t, { outboundRate: 50, outboundBurst: 5, outboundQueue: 10, ...unlimitedInbound });
  const world = await TestClient.connect(t, ws('/channel/sensor'));
  const source = await TestClient.connect(t, ws('/channel/sensor'));
  const total = 100;
  for (let i = 0; i < total; i++) source.send(`m${i}`);
  let dropped = 0;
  const received = await readUntil(world, (got) => got.at(-1) === `m${total - 1}`);
  const messages = received.filter((text) => {
    const notice = /^dropped\|(\d+)$/.exec(text);
    if (notice) dropped += Number(notice[1]);
    return !notice;
  });
  assert.ok(dropped > 0, 'a flood of 100 into a queue of 10 must drop some');
  assert.equal(messages.length + dropped, total, 'every message is either delivered or counted as dropped');
  const numbers = messages.map((text) => Number(text.slice(1)));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'in order');
  assert.equal(numbers.at(-1), total - 1, 'the newest survive');
});

test('watched values coalesce: a slow world gets the latest value, not a backlog', async (t) => {
  const { ws } = await startServer(t, { outboundRate: 20, outboundBurst: 1, ...unlimitedInbound });
  const world = await TestClient.connect(t, ws('/api'));
  const app = await TestClient.connect(t, ws('/api?rate=1000'));
  world.send('watch|hp');
  assert.equal(await world.next(), 'missing|hp');
  for (let i = 1; i <= 50; i++) app.send(`set|hp|${i}`);
  const received = await readUntil(world, (got) => got.at(-1) === 'value|hp|50');
  assert.ok(received.length < 50, `coalesced to ${received.length} pushes`);
  assert.ok(received.every((text) => text.startsWith('value|hp|')));
});

test('?rate= is capped at maxOutboundRate; rate=0 (unpaced) only where the server allows it', async (t) => {
  const { ws } = await startServer(t, { maxOutboundRate: 100 });
  const greedy = await TestClient.connect(t, ws('/echo?rate=0'));
  assert.equal(await greedy.next(), 'error|query|rate is limited to 100 messages per second on this server; using 100 (got "0")');
  const open = await startServer(t, { maxOutboundRate: 0 });
  const app = await TestClient.connect(t, open.ws('/echo?rate=0'));
  app.send('unpaced');
  assert.equal(await app.next(), 'unpaced');
});

test('a client that stops reading slows no one: others get everything, its backlog stays bounded', { timeout: 30_000 }, async (t) => {
  const outboundQueue = 50;
  const { ws, http } = await startServer(t, { maxOutboundRate: 0, outboundQueue, maxBufferedBytes: 16 * 1024, shutdownTimeoutMs: 200, ...unlimitedInbound });
  const stalled = await TestClient.connect(t, ws('/channel/firehose?rate=0'));
  const healthy = await TestClient.connect(t, ws('/channel/firehose?rate=0'));
  const source = await TestClient.connect(t, ws('/channel/firehose?rate=0'));
  stalled.socket.pause();
  // 24 MB in batches the healthy client keeps up with: more than the kernel's socket buffers on
  // loopback can absorb for the stalled one.
  const payload = 'x'.repeat(4_000);
  let sent = 0;
  for (let batch = 0; batch < 30; batch++) {
    for (let i = 0; i < 200; i++) source.send(`${sent++}|${payload}`);
    const got = await readUntil(healthy, (received) => received.length === 200);
    assert.deepEqual(got.map((text) => Number(text.split('|')[0])), Array.from({ length: 200 }, (_, i) => sent - 200 + i), 'all, in order, none dropped');
  }
  const health = (await (await fetch(http('/healthz'))).json()) as { queued: number; dropped: number };
  assert.ok(health.queued <= outboundQueue, `backlog ${health.queued} stays within the queue of ${outboundQueue}`);
  assert.ok(health.dropped > 0, 'the stalled client is dropped messages, not buffered without bound');
});

test('a client that asks but does not read its replies is closed with 1008 past the hard limit', { timeout: 30_000 }, async (t) => {
  const { ws } = await startServer(t, { maxOutboundRate: 0, maxBufferedBytes: 16 * 1024, outboundQueue: 50, shutdownTimeoutMs: 200, ...unlimitedInbound });
  const setter = await TestClient.connect(t, ws('/api'));
  setter.send(`set|big|${'x'.repeat(60_000)}`);
  assert.equal(await setter.next(), 'ok|set|big');
  const greedy = await TestClient.connect(t, ws('/api?rate=0'));
  greedy.socket.pause();
  // Replies are never dropped: 120 MB of them fill the kernel's socket buffers (whatever their size on this
  // machine), then the queue, until the server gives up. Sent in batches, so none is refused as "slow down".
  for (let batch = 0; batch < 20 && greedy.socket.readyState === greedy.socket.OPEN; batch++) {
    for (let i = 0; i < 100; i++) greedy.send('get|big');
    await new Promise((resolve) => setImmediate(resolve));
  }
  greedy.socket.resume();
  const { code, reason } = await greedy.closed;
  assert.equal(code, 1008);
  assert.equal(reason, 'too slow: the client stopped reading');
});
