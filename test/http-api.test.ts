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

/** Publishes numbered messages to `channel` until `until` settles: a wait that started before any of them hears one. */
async function publishUntil(http: (path: string) => string, channel: string, until: Promise<unknown>): Promise<void> {
  let settled = false;
  void until.finally(() => (settled = true));
  for (let i = 0; !settled && i < 200; i++) {
    await fetch(http(`/publish/${channel}?name=poker`), { method: 'POST', body: `poke ${i}` });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('GET /channels, /channels/<c>/members and /channels/<c>/history tell what is going on in channels', async (t) => {
  const { ws, http } = await startServer(t);
  const alice = await TestClient.connect(t, ws('/channel/lobby?name=alice'));
  const world = await TestClient.connect(t, ws('/api?name=bob'));
  assert.equal(await world.ask('join|lobby'), 'ok|join|lobby');
  alice.send('hello');
  assert.equal(await world.next(), 'msg|lobby|alice|hello');
  world.send('pub|lobby|hi alice');
  assert.equal(await alice.next(), 'hi alice');
  assert.equal(await world.next(), 'ok|pub|lobby');
  assert.deepEqual(await (await fetch(http('/channels'))).json(), { ok: true, total: 1, channels: [{ channel: 'lobby', total: 2, members: ['alice', 'bob'] }] });
  assert.deepEqual(await (await fetch(http('/channels/lobby/members'))).json(), { ok: true, channel: 'lobby', total: 2, members: ['alice', 'bob'] });
  assert.deepEqual(await (await fetch(http('/channels/lobby/history?limit=1'))).json(), { ok: true, channel: 'lobby', messages: [{ from: 'bob', text: 'hi alice' }] });
  const all = (await (await fetch(http('/channels/lobby/history'))).json()) as { messages: unknown[] };
  assert.deepEqual(all.messages, [{ from: 'alice', text: 'hello' }, { from: 'bob', text: 'hi alice' }]);
  const bad = await fetch(http('/channels/lobby/history?limit=0'));
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /limit must be a whole number from 1 to 100/);
  assert.equal((await fetch(http('/channels/bad%20name/members'))).status, 400);
  assert.equal((await fetch(http('/channels'), { method: 'POST' })).status, 405);
});

test('GET /channels/<c>/next waits for the next message, unseen by members, or answers null at its timeout', async (t) => {
  const { ws, http } = await startServer(t);
  const watcher = await TestClient.connect(t, ws('/api?name=watcher'));
  assert.equal(await watcher.ask('join|lobby'), 'ok|join|lobby');
  const waiting = fetch(http('/channels/lobby/next?timeout=10')).then((response) => response.json() as Promise<{ message: { from: string; text: string } }>);
  await publishUntil(http, 'lobby', waiting);
  const { message } = await waiting;
  assert.equal(message.from, 'poker');
  assert.match(message.text, /^poke \d+$/);
  // The wait joined no one: members see no joined/left notice, only the pokes.
  assert.deepEqual(await (await fetch(http('/channels/lobby/members'))).json(), { ok: true, channel: 'lobby', total: 1, members: ['watcher'] });
  for (const line of [await watcher.next(), ...watcher.pending]) assert.match(line, /^msg\|lobby\|poker\|poke \d+$/);
  assert.deepEqual(await (await fetch(http('/channels/quiet/next?timeout=1'))).json(), { ok: true, channel: 'quiet', message: null, timedOut: true });
  for (const timeout of ['0', '51', 'soon']) {
    const response = await fetch(http(`/channels/lobby/next?timeout=${timeout}`));
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /timeout must be a number of seconds from 1 to 50/);
  }
});

test('long-polls are bounded per address and give their slot back when the caller hangs up', async (t) => {
  const { http } = await startServer(t);
  const callers = Array.from({ length: 4 }, () => new AbortController());
  t.after(() => callers.forEach((caller) => caller.abort()));
  const held = callers.map((caller) => fetch(http('/channels/lobby/next?timeout=50'), { signal: caller.signal }).catch(() => undefined));
  // The fifth is refused once all four are held (they are counted as the server reads them).
  let refused: Response | undefined;
  for (let i = 0; i < 200 && refused?.status !== 429; i++) {
    refused = await fetch(http('/channels/lobby/next?timeout=1'));
    if (refused.status !== 429) await refused.body?.cancel();
  }
  assert.equal(refused?.status, 429);
  assert.match(((await refused.json()) as { error: string }).error, /you have 4 waits open already \(per address\)/);
  callers[0]?.abort();
  await held[0];
  // The server hears the hang-up and frees the slot: a new wait is accepted again.
  let status = 429;
  for (let i = 0; i < 200 && status === 429; i++) {
    const response = await fetch(http('/channels/lobby/next?timeout=1'));
    status = response.status;
    await response.body?.cancel();
  }
  assert.equal(status, 200);
});

test('channel reads and connections need their scopes; connections never show addresses or tokens', async (t) => {
  const tokens = [
    { name: 'agent', token: 'agent-secret-0123456789ab', allow: ['channel:lobby:r', 'connections'] },
    { name: 'world', token: 'world-secret-0123456789ab', allow: ['channel:*', 'api'] },
  ];
  const { ws, http } = await startServer(t, { tokens });
  await TestClient.connect(t, ws('/channel/lobby?name=alice&token=world-secret-0123456789ab'));
  await TestClient.connect(t, ws('/channel/secret?name=carol&token=world-secret-0123456789ab'));
  const agent = { headers: { authorization: 'Bearer agent-secret-0123456789ab' } };
  const world = { headers: { authorization: 'Bearer world-secret-0123456789ab' } };
  const channels = (await (await fetch(http('/channels'), agent)).json()) as { channels: { channel: string }[] };
  assert.deepEqual(channels.channels.map(({ channel }) => channel), ['lobby'], 'only the channels the token may read');
  const cases: [string, RequestInit, number, RegExp][] = [
    ['/channels/secret/members', agent, 403, /may not read channel "secret": it needs the scope "channel:secret:r"/],
    ['/channels/secret/history', agent, 403, /may not read channel "secret"/],
    ['/channels/secret/next?timeout=1', agent, 403, /may not read channel "secret"/],
    ['/connections', world, 403, /may not list connections: it needs the scope "connections"/],
    ['/connections', {}, 401, /needs a token/],
    ['/kv?prefix=a', agent, 403, /may not use keys/],
  ];
  for (const [path, init, status, message] of cases) {
    const response = await fetch(http(path), init);
    assert.equal(response.status, status, path);
    assert.match(((await response.json()) as { error: string }).error, message, path);
  }
  const listed = await (await fetch(http('/connections'), agent)).text();
  const { connections, total } = JSON.parse(listed) as { total: number; connections: { name: string; endpoint: string; path: string; token: string }[] };
  assert.equal(total, 2);
  assert.deepEqual(connections.map(({ name, endpoint, token }) => [name, endpoint, token]).sort(), [['alice', '/channel/<name>', 'world'], ['carol', '/channel/<name>', 'world']]);
  assert.ok(!listed.includes('world-secret') && !listed.includes('127.0.0.1'), listed);
});

test('GET /kv?prefix= lists keys', async (t) => {
  const { http } = await startServer(t);
  for (const key of ['a1', 'a2', 'b1']) await fetch(http(`/kv/${key}?ns=w`), { method: 'PUT', body: 'x' });
  assert.deepEqual(await (await fetch(http('/kv?prefix=a&ns=w'))).json(), { ok: true, ns: 'w', prefix: 'a', keys: ['a1', 'a2'] });
  assert.deepEqual(((await (await fetch(http('/kv/?ns=w'))).json()) as { keys: string[] }).keys, ['a1', 'a2', 'b1']);
  assert.equal((await fetch(http('/kv'), { method: 'PUT', body: 'x' })).status, 405);
});
