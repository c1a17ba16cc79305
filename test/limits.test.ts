import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

test('over the inbound rate: error|rate, and every message is read at the allowed rate (none dropped), connection kept', { timeout: 30_000 }, async (t) => {
  const { ws } = await startServer(t, { inboundRate: 5, outboundRate: 0, maxOutboundRate: 0 });
  const client = await TestClient.connect(t, ws('/echo?rate=0'));
  for (let i = 0; i < 20; i++) client.send(`m${i}`);
  const echoed: string[] = [];
  const notices: string[] = [];
  while (echoed.length < 20) {
    const text = await client.next();
    (text.startsWith('error|') ? notices : echoed).push(text);
  }
  assert.deepEqual(echoed, Array.from({ length: 20 }, (_, i) => `m${i}`));
  assert.ok(notices.length >= 1);
  for (const notice of notices) assert.equal(notice, 'error|rate|you are sending more than 5 messages per second; your messages wait and are read at that rate');
  assert.equal(client.socket.readyState, client.socket.OPEN);
});

test('a flooder stops being read: the server takes its allowance, the rest waits in its own buffers', { timeout: 60_000 }, async (t) => {
  const { ws, http } = await startServer(t, { inboundRate: 5, outboundRate: 0, maxOutboundRate: 0 });
  const flooder = await TestClient.connect(t, ws('/echo?rate=0'));
  const started = performance.now();
  const message = 'x'.repeat(1024);
  let sent = 0;
  // Send until TCP pushes back (the server is not reading), at most 64 MB.
  while (flooder.socket.bufferedAmount < 1024 * 1024 && sent < 65_536) {
    for (let i = 0; i < 256; i++) flooder.send(message);
    sent += 256;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(flooder.socket.bufferedAmount >= 1024 * 1024, `the server read all ${sent} messages`);
  const metrics = await (await fetch(http('/metrics'))).text();
  const elapsedSeconds = (performance.now() - started) / 1000;
  const read = Number(/^resobridge_messages_in_total\{endpoint="\/echo"\} (\d+)$/m.exec(metrics)?.[1]);
  // The allowance: a burst of 10, then 5 per second (elapsed measured after the count, so the bound only grows).
  assert.ok(read <= 10 + 5 * elapsedSeconds + 1, `${read} messages read from the flooder in ${elapsedSeconds} s, over its allowance`);
  assert.ok(read < sent);
  assert.equal(flooder.socket.readyState, flooder.socket.OPEN);
});

test('a client that keeps flooding is closed with 1008 and a reason', { timeout: 60_000 }, async (t) => {
  const { ws } = await startServer(t, { inboundRate: 5 });
  const client = await TestClient.connect(t, ws('/echo'));
  // 200 messages at 5 a second: over the allowance for far longer than the 10 s a backlog may take.
  for (let i = 0; i < 200; i++) client.send(`m${i}`);
  const { code, reason } = await client.closed;
  assert.equal(code, 1008);
  assert.match(reason, /sending too fast/);
});

test('connection limits per address and in total answer the handshake with 429 / 503', async (t) => {
  const perAddress = await startServer(t, { maxConnectionsPerAddress: 2 });
  await TestClient.connect(t, perAddress.ws('/echo'));
  await TestClient.connect(t, perAddress.ws('/echo'));
  const third = await refusedHandshake(perAddress.ws('/echo'));
  assert.equal(third.status, 429);
  assert.match(third.body, /Too many connections from your address \(the limit is 2\)/);

  const full = await startServer(t, { maxConnections: 1 });
  await TestClient.connect(t, full.ws('/echo'));
  const refused = await refusedHandshake(full.ws('/echo'));
  assert.equal(refused.status, 503);
  assert.match(refused.body, /The server is full right now/);
});

test('the handshake rate per address answers 429 and says to slow down', async (t) => {
  const { ws } = await startServer(t, { handshakeRate: 1 });
  await TestClient.connect(t, ws('/echo'));
  await TestClient.connect(t, ws('/echo'));
  const refused = await refusedHandshake(ws('/echo'));
  assert.equal(refused.status, 429);
  assert.match(refused.body, /at most 1 per second/);
});
