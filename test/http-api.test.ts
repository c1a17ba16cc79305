import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

test('POST /publish/<channel> reaches relay and command-mode members', async (t) => {
  const { ws, http } = await startServer(t);
  const relay = await TestClient.connect(t, ws('/channel/alerts'));
  const world = await TestClient.connect(t, ws('/api'));
  assert.equal(await world.ask('join|alerts'), 'ok|join|alerts');
  const plain = await fetch(http('/publish/alerts?name=doorbell'), { method: 'POST', body: 'someone|is at the door' });
  assert.equal(plain.status, 200);
  assert.deepEqual(await plain.json(), { ok: true, channel: 'alerts' });
  assert.equal(await relay.next(), 'someone|is at the door');
  assert.equal(await world.next(), 'msg|alerts|doorbell|someone%7Cis at the door');
  const json = await fetch(http('/publish/alerts'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"from json"}' });
  assert.equal(json.status, 200);
  assert.equal(await relay.next(), 'from json');
  assert.equal(await world.next(), 'msg|alerts|http|from json');
});

test('GET / PUT / DELETE /kv/<key> read and write the store, and watchers are told', async (t) => {
  const { ws, http } = await startServer(t);
  const world = await TestClient.connect(t, ws('/api?ns=w1'));
  assert.equal(await world.ask('watch|score'), 'missing|score');
  assert.equal((await fetch(http('/kv/score?ns=w1'))).status, 404);
  const put = await fetch(http('/kv/score?ns=w1'), { method: 'PUT', body: '42' });
  assert.equal(put.status, 200);
  assert.equal(await world.next(), 'value|score|42');
  const get = await fetch(http('/kv/score?ns=w1'));
  assert.equal(get.status, 200);
  assert.equal(await get.text(), '42');
  assert.equal((await fetch(http('/kv/score'))).status, 404, 'another namespace');
  assert.deepEqual(await (await fetch(http('/kv/score?ns=w1'), { method: 'DELETE' })).json(), { ok: true, deleted: true });
  assert.equal(await world.next(), 'missing|score');
});

test('clear 4xx errors: bad channel, bad JSON, too big, wrong method, tokens and scopes', async (t) => {
  const tokens = [
    { name: 'app', token: 'app-secret-0123456789abc', allow: ['channel:alerts', 'api'] },
    { name: 'viewer', token: 'viewer-secret-0123456789', allow: ['api:r'] },
  ];
  const { http } = await startServer(t, { tokens, maxMessageBytes: 1024 });
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const cases: [string, RequestInit, number, RegExp][] = [
    ['/publish/alerts', { method: 'POST', body: 'x' }, 401, /needs a token\. Send Authorization: Bearer YOUR-TOKEN/],
    ['/publish/alerts', { method: 'POST', body: 'x', headers: auth('nope') }, 401, /not valid/],
    ['/publish/other', { method: 'POST', body: 'x', headers: auth('app-secret-0123456789abc') }, 403, /may not publish to channel "other"/],
    ['/publish/bad%20name', { method: 'POST', body: 'x', headers: auth('app-secret-0123456789abc') }, 400, /not a valid channel name/],
    ['/publish/alerts', { method: 'GET', headers: auth('app-secret-0123456789abc') }, 405, /use POST/],
    ['/publish/alerts', { method: 'POST', body: '{"text":', headers: { ...auth('app-secret-0123456789abc'), 'content-type': 'application/json' } }, 400, /not valid JSON/],
    ['/publish/alerts', { method: 'POST', body: '{"text":1}', headers: { ...auth('app-secret-0123456789abc'), 'content-type': 'application/json' } }, 400, /"text" must be a string/],
    ['/publish/alerts', { method: 'POST', body: 'x'.repeat(5_000), headers: auth('app-secret-0123456789abc') }, 413, /over 1024 bytes/],
    ['/kv/k', { method: 'PUT', body: 'v', headers: auth('viewer-secret-0123456789') }, 403, /may only read keys/],
    ['/kv/k?token=viewer-secret-0123456789', { method: 'GET' }, 404, /no value for "k"/],
    ['/kv/k', { method: 'POST', body: 'v', headers: auth('app-secret-0123456789abc') }, 405, /use GET, PUT or DELETE/],
  ];
  for (const [path, init, status, message] of cases) {
    const response = await fetch(http(path), init);
    assert.equal(response.status, status, `${init.method} ${path}`);
    const body = (await response.json()) as { error: string };
    assert.match(body.error, message, `${init.method} ${path}`);
  }
  const ok = await fetch(http('/publish/alerts'), { method: 'POST', body: 'x', headers: auth('app-secret-0123456789abc') });
  assert.equal(ok.status, 200);
});

test('the HTTP API takes from the address\'s inbound allowance, shared with its WebSocket messages: 429 with Retry-After', async (t) => {
  const { http, ws } = await startServer(t, { addressInboundRate: 1 });
  const statuses: number[] = [];
  // A burst of 2 (twice the rate) goes through, then requests faster than one a second are refused.
  for (let i = 0; i < 20 && !statuses.includes(429); i++) statuses.push((await fetch(http('/publish/lobby'), { method: 'POST', body: `m${i}` })).status);
  assert.deepEqual(statuses.slice(0, 2), [200, 200]);
  assert.equal(statuses.at(-1), 429, statuses.join(','));
  const refused = await fetch(http('/kv/score'));
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.match(((await refused.json()) as { error: string }).error, /^you are sending more than 1 messages per second from your address; try again in \d+ s$/);
  // The same allowance: a WebSocket client from this address is over it too (its message waits).
  const client = await TestClient.connect(t, ws('/echo'));
  client.send('hello');
  assert.match(await client.next(), /^error\|rate\|you are sending more than 1 messages per second from your address/);
});
