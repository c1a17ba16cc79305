import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

test('over the inbound rate: error|rate, messages dropped, connection kept', async (t) => {
  const { ws } = await startServer(t, { inboundRate: 5, outboundRate: 0, maxOutboundRate: 0 });
  const client = await TestClient.connect(t, ws('/echo?rate=0'));
  for (let i = 0; i < 20; i++) client.send(`m${i}`);
  client.send('last');
  const received: string[] = [];
  // The burst (10) is echoed, then one error|rate; 'last' is dropped too, so end on a fresh probe later.
  while (received.length < 11) received.push(await client.next());
  assert.equal(received.filter((text) => text.startsWith('m')).length, 10);
  assert.match(received.find((text) => text.startsWith('error|')) ?? '', /^error\|rate\|you are sending more than 5 messages per second; messages over the limit are dropped$/);
  assert.equal(client.socket.readyState, client.socket.OPEN);
});

test('a client that keeps flooding is closed with 1008 and a reason', async (t) => {
  const { ws } = await startServer(t, { inboundRate: 5 });
  const client = await TestClient.connect(t, ws('/echo'));
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
