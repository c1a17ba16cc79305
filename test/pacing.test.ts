import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capturedLogger, startServer, TestClient } from './helpers.js';

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
  // Drops are told at most once a second, so the last notice may come after the last message.
  const received = await readUntil(world, (got) => {
    const last = got.at(-1);
    const notice = last === undefined ? null : /^dropped\|(\d+)$/.exec(last);
    if (notice) dropped += Number(notice[1]);
    return got.length - got.filter((text) => text.startsWith('dropped|')).length + dropped === total;
  });
  const messages = received.filter((text) => !text.startsWith('dropped|'));
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

test('a world in a channel fed at 1.3 × its rate keeps getting messages at its rate, few notices, and prompt replies', { timeout: 60_000 }, async (t) => {
  const rate = 20;
  // A small queue, so overload shows within seconds (the age bound, 2 s by default, holds it to 40 anyway).
  const { ws } = await startServer(t, { outboundRate: rate, outboundBurst: 10, outboundQueue: 20 });
  const world = await TestClient.connect(t, ws('/api'));
  assert.equal(await world.ask('join|feed'), 'ok|join|feed');
  const feeder = await TestClient.connect(t, ws('/channel/feed'));
  const feedRate = rate * 1.3;
  const total = Math.round(feedRate * 12);
  const pings: { mark: number; id: number }[] = [];
  const started = performance.now();
  // The feed keeps up with 1.3 × the rate on average, whatever the timers do; bounded by count.
  for (let sent = 0, tick = 0; sent < total; tick++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const due = Math.min(total, Math.ceil(((performance.now() - started) * feedRate) / 1000));
    while (sent < due) feeder.send(`${sent++}`);
    if (tick % 20 === 10) {
      pings.push({ mark: world.pending.length, id: pings.length });
      world.send(`ping#${pings.length - 1}`);
    }
  }
  // Everything sent is either received or told as dropped (the last notice may take a second).
  const received = [...world.pending];
  const countDropped = (texts: string[]) => texts.filter((text) => text.startsWith('dropped|')).reduce((sum, text) => sum + Number(text.split('|')[1]), 0);
  for (let wait = 0; wait < 200; wait++) {
    const messages = received.filter((text) => text.startsWith('msg|feed|')).length;
    const pongs = received.filter((text) => text.startsWith('pong#')).length;
    if (messages + countDropped(received) === total && pongs === pings.length) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    received.splice(0, received.length, ...world.pending);
  }
  const messages = received.filter((text) => text.startsWith('msg|feed|'));
  const notices = received.filter((text) => text.startsWith('dropped|'));
  assert.ok(countDropped(received) > 0, 'the world was overloaded (some messages were dropped)');
  assert.equal(messages.length + countDropped(received), total, 'every message is delivered or counted in a notice');
  // Notices are at most one a second; the world takes `rate` a second: so few per `rate` deliveries.
  for (let start = 0; start < received.length; start += rate) {
    const window = received.slice(start, start + 2 * rate);
    const inWindow = window.filter((text) => text.startsWith('dropped|')).length;
    assert.ok(inWindow <= 3, `${inWindow} notices in deliveries ${start}..${start + window.length}: at least 90 % must be messages`);
  }
  assert.ok(notices.length <= messages.length / rate + 2, `${notices.length} notices for ${messages.length} messages: about one a second at most`);
  // Replies go ahead of channel traffic: a ping is answered within a few of the world's ticks.
  for (const { mark, id } of pings) {
    const at = received.indexOf(`pong#${id}`);
    assert.ok(at >= 0, `ping#${id} was answered`);
    assert.ok(at - mark <= 5, `ping#${id}: ${at - mark} messages arrived between the ping and its pong`);
  }
  const numbers = messages.map((text) => Number(text.split('|')[3]));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'in order');
});

test('clients that ask for big replies and never read them are held, then closed; the bytes waiting for them are bounded and freed', { timeout: 90_000 }, async (t) => {
  const maxQueuedBytes = 256 * 1024;
  const { logger, lines } = capturedLogger();
  const { ws, http } = await startServer(t, { maxQueuedBytes, stallTimeoutMs: 1_000, maxBufferedBytes: 64 * 1024, shutdownTimeoutMs: 200, logger, ...unlimitedInbound });
  const givenUp = () => lines.filter((line) => String(line.msg).startsWith('closing a client that does not read'));
  const health = async () => (await (await fetch(http('/healthz'))).json()) as { connections: number; queuedBytes: number };
  const setter = await TestClient.connect(t, ws('/api'));
  const value = 'x'.repeat(60_000);
  assert.equal(await setter.ask(`set|big|${value}`), 'ok|set|big');
  const attackers = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(t, ws('/api?rate=1000'))));
  for (const attacker of attackers) attacker.socket.pause();
  // Each asks for a few 60 KB replies a round and never reads them: within a few hundred rounds, far more
  // than the kernel's socket buffers hold. Bounded by rounds; it ends once the server has given up on every
  // attacker (its log says so).
  let peak = 0;
  for (let round = 0; round < 1_000 && givenUp().length < attackers.length; round++) {
    for (const attacker of attackers) for (let i = 0; i < 4; i++) attacker.send('get|big');
    await new Promise((resolve) => setTimeout(resolve, 20));
    peak = Math.max(peak, (await health()).queuedBytes);
  }
  assert.equal(givenUp().length, attackers.length, 'each attacker is closed, with the reason in the log');
  for (const line of givenUp()) assert.ok(Number(line.queuedBytes) > maxQueuedBytes, 'the log says how much waited');
  // The server closed each with 1008; one that did not read its close frame in time was then cut (it sees 1006).
  for (const attacker of attackers) attacker.socket.resume();
  for (const attacker of attackers) assert.ok([1006, 1008].includes((await attacker.closed).code));
  const bound = attackers.length * (2 * maxQueuedBytes + value.length + 1_024);
  assert.ok(peak <= bound, `at most ${bound} bytes waited for the attackers (2 × maxQueuedBytes each); seen ${peak}`);
  for (let wait = 0; wait < 100 && (await health()).connections > 1; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await health();
  assert.equal(after.connections, 1, 'the attackers are gone');
  const closes = lines.filter((line) => line.msg === 'disconnected' && line.closedBy === 'server' && line.code === 1008);
  assert.equal(closes.length, attackers.length, 'each attacker closed by the server with 1008');
  for (const close of closes) assert.equal(close.reason, 'too slow: the client stopped reading');
  assert.equal(after.queuedBytes, 0, 'nothing waits for anyone once they left');
  assert.equal(await setter.ask('ping'), 'pong', 'the server still serves others');
});
