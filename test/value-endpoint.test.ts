/** `/value/<key>`: the bare value on connect and on every change, whoever made it; a message sets it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

test('the value on connect and on every change: command mode, HTTP /kv, another value client', async (t) => {
  const { ws, http } = await startServer(t);
  const api = await TestClient.connect(t, ws('/api?ns=w1'));
  const missing = await TestClient.connect(t, ws('/value/score?ns=w1'));
  assert.equal(await missing.next(), '', 'a missing key: an empty message');
  const placeholder = await TestClient.connect(t, ws('/value/score?ns=w1&missing=none'));
  assert.equal(await placeholder.next(), 'none');

  assert.equal(await api.ask('set|score|4|2%7C'), 'ok|set|score');
  assert.equal(await missing.next(), '4|2|', 'bare: no tag, no escaping');
  assert.equal(await placeholder.next(), '4|2|');

  assert.equal((await fetch(http('/kv/score?ns=w1'), { method: 'PUT', body: '43' })).status, 200);
  assert.equal(await missing.next(), '43', 'a change over HTTP');

  const late = await TestClient.connect(t, ws('/value/score?ns=w1'));
  assert.equal(await late.next(), '43', 'the current value on connect');
  late.send('100% sure|ok');
  assert.equal(await late.next(), '100% sure|ok', 'its own write comes back like any change');
  assert.equal(await missing.next(), '100% sure|ok');
  assert.equal(await api.ask('get|score'), 'value|score|100%25 sure%7Cok');

  assert.equal(await placeholder.next(), '43');
  assert.equal(await placeholder.next(), '100% sure|ok');
  assert.equal(await api.ask('del|score'), 'ok|del|score');
  assert.equal(await placeholder.next(), 'none', 'deleted: the placeholder again');

  const other = await TestClient.connect(t, ws('/value/score?ns=w2'));
  assert.equal(await other.next(), '', 'another namespace, another key');
});

test('a fast writer: a slow value client gets the latest value, not a backlog', async (t) => {
  const { ws } = await startServer(t, { outboundRate: 5, outboundBurst: 1 });
  const reader = await TestClient.connect(t, ws('/value/n'));
  assert.equal(await reader.next(), '');
  const writer = await TestClient.connect(t, ws('/api?rate=0'));
  for (let i = 1; i <= 200; i++) writer.send(`set|n|${i}`);
  for (let i = 1; i <= 200; i++) await writer.next();
  const seen: string[] = [];
  while (seen.at(-1) !== '200') seen.push(await reader.next());
  assert.ok(seen.length < 200, `coalesced: ${seen.length} values for 200 changes`);
  assert.ok(!seen.some((text) => text.startsWith('dropped|')), 'coalesced, not dropped');
});

test('tokens: api:r reads but may not write; a bad key is refused at the handshake', async (t) => {
  const tokens = [
    { name: 'viewer', token: 'viewer-secret-0123456789', allow: ['api:r'] },
    { name: 'relay', token: 'relay-secret-0123456789a', allow: ['channel:*'] },
  ];
  const { ws, http } = await startServer(t, { tokens });
  const viewer = await TestClient.connect(t, ws('/value/score?token=viewer-secret-0123456789'));
  assert.equal(await viewer.next(), '');
  viewer.send('99');
  assert.equal(await viewer.next(), 'error|value|the token "viewer" may only read keys');
  assert.equal((await fetch(http('/kv/score?token=viewer-secret-0123456789'))).status, 404, 'nothing was written');
  assert.equal((await refusedHandshake(ws('/value/score?token=relay-secret-0123456789a'))).status, 403);
  assert.equal((await refusedHandshake(ws('/value/%20score'))).status, 400);
  assert.equal((await refusedHandshake(ws('/value/'))).status, 400);
});
