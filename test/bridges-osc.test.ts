import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { Client, Server } from 'node-osc';
import { startServer, TestClient } from './helpers.js';

/** A free UDP port. */
async function udpPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

test('OSC in: messages become osc|<address>|<args> in the mapped channel', { timeout: 30_000 }, async (t) => {
  const listen = await udpPort();
  const { ws, server } = await startServer(t, {
    bridges: [{ type: 'osc', listen, map: { '/avatar/parameters/*': 'avatar', '/hr': 'heart' } }],
  });
  const avatar = await TestClient.connect(t, ws('/channel/avatar'));
  const heart = await TestClient.connect(t, ws('/api'));
  assert.equal(await heart.ask('join|heart'), 'ok|join|heart');
  while (server.bridges()[0]?.state !== 'connected') await new Promise((resolve) => setTimeout(resolve, 10));
  const sender = new Client('127.0.0.1', listen);
  t.after(() => sender.close());
  await sender.send('/avatar/parameters/Smile', 0.5);
  assert.equal(await avatar.next(), 'osc|/avatar/parameters/Smile|0.5');
  await sender.send('/avatar/parameters/Smile', 0.1);
  assert.equal(await avatar.next(), 'osc|/avatar/parameters/Smile|0.1', 'a float32 at float32 precision');
  await sender.send('/hr', 72);
  assert.equal(await heart.next(), 'msg|heart|osc-' + listen + '|osc%7C/hr%7C72');
  await sender.send('/avatar/parameters/Name', 'Ali|ce', true);
  assert.equal(await avatar.next(), 'osc|/avatar/parameters/Name|Ali%7Cce|true');
  await sender.send('/unmapped', 1);
  await sender.send('/avatar/parameters/Done', 1);
  assert.equal(await avatar.next(), 'osc|/avatar/parameters/Done|1', 'unmapped addresses go nowhere');
});

test('OSC out: /address|args in the send channel arrive as typed OSC messages', { timeout: 30_000 }, async (t) => {
  const port = await udpPort();
  const receiver = new Server(port, '127.0.0.1');
  t.after(() => receiver.close());
  await once(receiver, 'listening');
  const { ws } = await startServer(t, { bridges: [{ type: 'osc', send: { channel: 'to-osc', port } }] });
  const world = await TestClient.connect(t, ws('/channel/to-osc'));
  const received = once(receiver, 'message') as Promise<[unknown[]]>;
  world.send('/lights/dim|0.25|3|true|kitchen');
  const [message] = await received;
  assert.deepEqual(message, ['/lights/dim', 0.25, 3, true, 'kitchen']);
  const second = once(receiver, 'message') as Promise<[unknown[]]>;
  world.send('osc|/one|1.0');
  assert.deepEqual((await second)[0], ['/one', 1]);
});

test('OSC: a port that is taken is retried with backoff; the server keeps serving', { timeout: 30_000 }, async (t) => {
  const blocker = createSocket('udp4');
  blocker.bind(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const { ws, server } = await startServer(t, { bridges: [{ type: 'osc', listen: blocker.address().port }] });
  while (server.bridges()[0]?.state !== 'retrying') await new Promise((resolve) => setTimeout(resolve, 10));
  assert.match(server.bridges()[0]?.detail ?? '', /cannot listen on UDP 127\.0\.0\.1:\d+ \(.*EADDRINUSE.*\); trying again in 1 s/);
  const echo = await TestClient.connect(t, ws('/echo'));
  assert.equal(await echo.ask('up'), 'up');
});

test('OSC in: a fast stream is coalesced per address for a world that cannot keep up', { timeout: 30_000 }, async (t) => {
  const listen = await udpPort();
  const { ws, server } = await startServer(t, { bridges: [{ type: 'osc', listen, map: { '/*': 'sensors' } }], outboundRate: 20, outboundBurst: 1 });
  const world = await TestClient.connect(t, ws('/channel/sensors'));
  while (server.bridges()[0]?.state !== 'connected') await new Promise((resolve) => setTimeout(resolve, 10));
  const sender = new Client('127.0.0.1', listen);
  t.after(() => sender.close());
  for (let i = 1; i <= 50; i++) await sender.send('/hr', i);
  const received: string[] = [];
  while (received.at(-1) !== 'osc|/hr|50') received.push(await world.next());
  assert.ok(received.length < 50, `coalesced to ${received.length} messages`);
  assert.ok(!received.some((text) => text.startsWith('dropped|')), 'coalesced, not dropped');
});
