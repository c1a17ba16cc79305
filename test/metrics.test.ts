import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

/** The value of one sample line in Prometheus text, e.g. `resobridge_connections{endpoint="/echo"}`. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  assert.ok(line, `no sample ${name} in:\n${text.split('\n').filter((l) => l.startsWith('resobridge')).join('\n')}`);
  return Number(line.slice(name.length + 1));
}

test('GET /metrics: connections, messages, bytes, drops, limits, handshakes, store latency, bridges, event loop', async (t) => {
  const { ws, http } = await startServer(t, { inboundRate: 5, exec: '/time=date' });
  const echo = await TestClient.connect(t, ws('/echo?rate=1000'));
  assert.equal(await echo.ask('hello'), 'hello');
  assert.equal(await echo.ask('again'), 'again');
  const member = await TestClient.connect(t, ws('/channel/lobby'));
  const api = await TestClient.connect(t, ws('/api'));
  assert.equal(await api.ask('set|k|v'), 'ok|set|k');
  await refusedHandshake(ws('/nope'));
  for (let i = 0; i < 15; i++) member.send(`flood ${i}`);
  assert.match(await member.next(), /^error\|rate\|/);

  const response = await fetch(http('/metrics'));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await response.text();
  assert.equal(sample(text, 'resobridge_connections{endpoint="/echo"}'), 1);
  assert.equal(sample(text, 'resobridge_connections{endpoint="/channel/<name>"}'), 1);
  assert.equal(sample(text, 'resobridge_messages_in_total{endpoint="/echo"}'), 2);
  assert.equal(sample(text, 'resobridge_messages_out_total{endpoint="/echo"}'), 2);
  assert.equal(sample(text, 'resobridge_bytes_in_total{endpoint="/echo"}'), 10);
  assert.ok(sample(text, 'resobridge_rate_limited_total{reason="held"}') >= 1);
  assert.equal(sample(text, 'resobridge_handshake_failures_total{reason="404"}'), 1);
  assert.equal(sample(text, 'resobridge_store_operation_seconds_count{operation="set"}'), 1);
  assert.equal(sample(text, 'resobridge_bridge_up{name="/time",type="exec"}'), 1);
  assert.equal(sample(text, 'resobridge_channels'), 1);
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);

  // Closed connections still count.
  echo.socket.close();
  await echo.closed;
  const after = await (await fetch(http('/metrics'))).text();
  assert.equal(sample(after, 'resobridge_messages_in_total{endpoint="/echo"}'), 2);
  assert.ok(!after.includes('resobridge_connections{endpoint="/echo"} 1'));
});

test('with tokens, /metrics needs a token that allows everything', async (t) => {
  const tokens = [
    { name: 'admin', token: 'admin-secret-0123456789', allow: ['*'] },
    { name: 'world', token: 'world-secret-0123456789', allow: ['echo'] },
  ];
  const { http } = await startServer(t, { tokens });
  assert.equal((await fetch(http('/metrics'))).status, 401);
  assert.equal((await fetch(http('/metrics'), { headers: { authorization: 'Bearer world-secret-0123456789' } })).status, 403);
  assert.equal((await fetch(http('/metrics'), { headers: { authorization: 'Bearer admin-secret-0123456789' } })).status, 200);
});
