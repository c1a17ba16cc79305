/** The dashboard's server side: the page's files, who may open it, and its feed (driven here without a browser). */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { refusedHandshake, startServer, TestClient } from './helpers.js';
import type { ServerOptions } from '../src/server/create-server.js';
import type { ServerMessage } from '../src/dashboard/wire.js';

const html = { headers: { Accept: 'text/html' } };

/** The feed as a page sees it: JSON messages, of which the test waits for one kind at a time. */
async function openFeed(t: TestContext, url: string, headers: Record<string, string> = {}, options: { localAddress?: string } = {}) {
  const client = await TestClient.connect(t, url, { headers, ...options });
  const next = async <T extends ServerMessage['type']>(type: T, where: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true) => {
    for (let i = 0; i < 100; i++) {
      const message = JSON.parse(await client.next()) as ServerMessage;
      if (message.type === type && where(message as Extract<ServerMessage, { type: T }>)) return message as Extract<ServerMessage, { type: T }>;
    }
    throw new Error(`no ${type} message among the next 100`);
  };
  let id = 0;
  const request = async (action: Record<string, unknown>) => {
    const sent = ++id;
    client.send(JSON.stringify({ ...action, id: sent }));
    return next('reply', (reply) => reply.id === sent);
  };
  return { client, next, request };
}

async function dashboardServer(t: TestContext, options: ServerOptions = {}) {
  return startServer(t, { dashboard: true, ...options });
}

test('the page is served at / (to browsers) and /dashboard, its assets with their types and long caching', async (t) => {
  const { http } = await dashboardServer(t);
  for (const path of ['/', '/dashboard', '/dashboard/']) {
    const page = await fetch(http(path), html);
    assert.equal(page.status, 200, path);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(await page.text(), /<div id="app">/);
  }
  const index = await (await fetch(http('/dashboard/'))).text();
  const assets = [...index.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((match) => match[1] ?? '');
  assert.ok(assets.some((path) => path.endsWith('.js')) && assets.some((path) => path.endsWith('.css')), 'the page loads a script and a style sheet');
  for (const path of assets) {
    const asset = await fetch(http(path));
    assert.equal(asset.status, 200, path);
    assert.equal(asset.headers.get('content-type'), path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok((await asset.text()).length > 100);
  }
  assert.doesNotMatch(index, /https?:\/\//, 'nothing is loaded from another site (no CDN)');
  // Tools (curl, doctor) still get the plain text index.
  assert.match(await (await fetch(http('/'))).text(), /WebSocket URLs on this server/);
  assert.equal((await fetch(http('/dashboard/assets/nope.js'))).status, 404);
  assert.equal((await fetch(http('/dashboard/../package.json'))).status, 404);
});

test('--no-dashboard: no page, no feed; / is the plain index page again', async (t) => {
  const { http, ws } = await startServer(t, { dashboard: false });
  assert.doesNotMatch(await (await fetch(http('/'), html)).text(), /<div id="app">/);
  assert.equal((await fetch(http('/dashboard'), html)).status, 404);
  assert.equal((await refusedHandshake(ws('/dashboard/ws'))).status, 404);
});

test('on a loopback address the feed is open; a page from another site is refused', async (t) => {
  const { ws, port } = await dashboardServer(t);
  const feed = await openFeed(t, ws('/dashboard/ws'), { Origin: `http://127.0.0.1:${port}` });
  const hello = await feed.next('hello');
  assert.match(hello.bases[0] ?? '', /^ws:\/\/localhost:\d+$/);
  assert.ok(hello.endpoints.some((endpoint) => endpoint.url.endsWith('/echo')));
  const refused = await refusedHandshake(ws('/dashboard/ws'), { Origin: 'http://evil.example' });
  assert.equal(refused.status, 403);
  // DNS rebinding: another site's name now points at 127.0.0.1, and its page asks under that name.
  const rebound = await refusedHandshake(ws('/dashboard/ws'), { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.match(rebound.body, /only for this computer/);
  const numbered = await refusedHandshake(ws('/dashboard/ws'), { Host: `127.attacker.example:${port}`, Origin: `http://127.attacker.example:${port}` });
  assert.equal(numbered.status, 403, 'a name that starts with 127. is not a loopback address');
  // Through a proxy, "loopback" is anyone the proxy lets in.
  assert.equal((await refusedHandshake(ws('/dashboard/ws'), { 'X-Forwarded-For': '198.51.100.7' })).status, 403);
});

test('strangers cannot lock the admin out: sockets waiting for the token are bounded per address and in all, apart from the admin\'s pages', { timeout: 60_000 }, async (t) => {
  const token = 'let-me-in-please-1234';
  const { ws } = await dashboardServer(t, { host: '0.0.0.0', allowAnonymous: true, dashboardToken: token });
  const from = (address: string) => openFeed(t, ws('/dashboard/ws'), {}, { localAddress: address });
  const signIn = async (address: string) => {
    const feed = await from(address);
    await feed.next('auth-required');
    feed.client.send(JSON.stringify({ type: 'auth', token }));
    await feed.next('hello');
    return feed;
  };
  // One address: 4 sockets may wait for the token, a 5th is refused.
  const waiting = await Promise.all(Array.from({ length: 4 }, () => from('127.0.0.1')));
  const refused = await refusedHandshake(ws('/dashboard/ws'));
  assert.equal(refused.status, 429);
  assert.match(refused.body, /waiting for the admin token/);
  // Many addresses: 64 waiting in all; past that the oldest make room, and the admin still gets in.
  for (let i = 10; i < 26; i++) await Promise.all(Array.from({ length: 4 }, () => from(`127.0.0.${i}`)));
  await signIn('127.0.0.2');
  assert.equal((await waiting[0]?.client.closed)?.code, 1008);
  // The admin's pages have their own cap: 32, whatever waits.
  const pages = [];
  for (let i = 1; i < 32; i++) pages.push(await signIn('127.0.0.3'));
  const extra = await from('127.0.0.4');
  await extra.next('auth-required');
  extra.client.send(JSON.stringify({ type: 'auth', token }));
  assert.equal((await extra.client.closed).code, 1013);
  pages[0]?.client.socket.close();
  await pages[0]?.client.closed;
  await signIn('127.0.0.4');
  // A socket that never gives the token is closed after a few seconds.
  const idle = await from('127.0.0.5');
  await idle.next('auth-required');
  assert.equal((await idle.client.closed).code, 1008);
});

test('on another address it takes the admin token, and says so when one is wrong', async (t) => {
  const { ws, http } = await dashboardServer(t, { host: '0.0.0.0', allowAnonymous: true, dashboardToken: 'let-me-in-please-1234' });
  const feed = await openFeed(t, ws('/dashboard/ws'));
  await feed.next('auth-required');
  feed.client.send(JSON.stringify({ type: 'view', offset: 0, limit: 10, filter: '', selected: null }));
  await feed.next('auth-required');
  feed.client.send(JSON.stringify({ type: 'auth', token: 'guess-guess-guess-guess' }));
  assert.match((await feed.next('auth-required')).reason ?? '', /not an admin token/);
  feed.client.send(JSON.stringify({ type: 'auth', token: 'let-me-in-please-1234' }));
  await feed.next('hello');
  await feed.next('state');
  // The page itself is static and holds nothing secret; it asks for the token.
  assert.equal((await fetch(http('/dashboard'))).status, 200);
});

test('a token that allows * opens it; one with less does not', async (t) => {
  const tokens = [
    { name: 'admin', token: 'admin-secret-0123456789', allow: ['*'] },
    { name: 'world', token: 'world-secret-0123456789', allow: ['channel:*'] },
  ];
  const { ws } = await dashboardServer(t, { host: '0.0.0.0', tokens });
  const feed = await openFeed(t, ws('/dashboard/ws'));
  await feed.next('auth-required');
  feed.client.send(JSON.stringify({ type: 'auth', token: 'world-secret-0123456789' }));
  assert.ok((await feed.next('auth-required')).reason);
  feed.client.send(JSON.stringify({ type: 'auth', token: 'admin-secret-0123456789' }));
  await feed.next('hello');
});

test('never open without auth on a public address: with no admin token it is off and says how to turn it on', async (t) => {
  const { http, ws } = await dashboardServer(t, { host: '0.0.0.0', allowAnonymous: true });
  const page = await fetch(http('/dashboard'), html);
  assert.equal(page.status, 404);
  assert.match(await page.text(), /--dashboard-token/);
  assert.equal((await refusedHandshake(ws('/dashboard/ws'))).status, 404);
});

test('the feed shows connections, their messages and channels, and the page can send, publish and edit keys', async (t) => {
  const { ws, server } = await dashboardServer(t);
  const alice = await TestClient.connect(t, ws('/channel/lobby?name=Alice'));
  const bob = await TestClient.connect(t, ws('/channel/lobby?name=Bob'));
  const feed = await openFeed(t, ws('/dashboard/ws'));
  await feed.next('hello');
  const state = await feed.next('state', (s) => s.totals.connections === 2);
  const row = state.connections.rows.find((r) => r.name === 'Alice');
  assert.ok(row);
  assert.deepEqual(row.channels, ['lobby']);
  assert.equal(row.endpoint, '/channel/<name>');
  assert.deepEqual(state.channels.map((c) => [c.name, [...c.members].sort()]), [['lobby', ['Alice', 'Bob']]]);

  // What a client sends shows in the log; the page selects it and sees its recent messages.
  alice.send('hello from Alice');
  assert.equal(await bob.next(), 'hello from Alice');
  const batch = await feed.next('log', (b) => b.entries.some((e) => e.text === 'hello from Alice'));
  assert.deepEqual(
    batch.entries.filter((e) => e.text === 'hello from Alice').map(({ kind, conn, channel, from }) => ({ kind, conn, channel, from })),
    [{ kind: 'in', conn: row.id, channel: 'lobby', from: 'Alice' }],
  );
  feed.client.send(JSON.stringify({ type: 'view', offset: 0, limit: 10, filter: 'alice', selected: row.id }));
  const selected = await feed.next('state', (s) => s.selected?.row.id === row.id);
  assert.equal(selected.connections.matching, 1);
  assert.deepEqual(selected.selected?.recent.map((m) => [m.direction, m.text]), [['in', 'hello from Alice']]);

  // Send to one connection, as the server.
  assert.equal((await feed.request({ type: 'send', conn: row.id, text: 'psst' })).ok, true);
  assert.equal(await alice.next(), 'psst');
  assert.match((await feed.request({ type: 'send', conn: 'gone00', text: 'x' })).error ?? '', /has closed/);

  // Publish to the channel: both members get it; the log shows it.
  assert.equal((await feed.request({ type: 'publish', channel: 'lobby', text: 'announcement' })).ok, true);
  assert.equal(await alice.next(), 'announcement');
  assert.equal(await bob.next(), 'announcement');
  await feed.next('log', (b) => b.entries.some((e) => e.kind === 'channel' && e.from === 'dashboard' && e.text === 'announcement'));
  assert.match((await feed.request({ type: 'publish', channel: 'bad name!', text: 'x' })).error ?? '', /channel name/);

  // The store: list by prefix, edit, delete.
  await server.store().set('score', '1');
  await server.store().set('other', '2');
  assert.deepEqual((await feed.request({ type: 'keys', ns: 'default', prefix: 'sc' })).data, [{ key: 'score', value: '1' }]);
  assert.equal((await feed.request({ type: 'set', ns: 'default', key: 'score', value: '5' })).ok, true);
  assert.equal(await server.store().get('score'), '5');
  assert.deepEqual((await feed.request({ type: 'delete', ns: 'default', key: 'score' })).data, { deleted: true });
  assert.equal(await server.store().get('score'), undefined);
  assert.match((await feed.request({ type: 'keys', ns: 'no spaces', prefix: '' })).error ?? '', /namespace/);
  assert.match((await feed.request({ type: 'explode' })).error ?? '', /./);
});

test('a thousand connections: the feed sends one page of them, and pages through the rest', async (t) => {
  const { ws } = await dashboardServer(t, { maxConnectionsPerAddress: 2_000, maxPendingSocketsPerAddress: 2_000, handshakeRate: 0 });
  const clients = await Promise.all(Array.from({ length: 1_000 }, (_, i) => TestClient.connect(t, ws(`/echo?name=c${i}`))));
  const feed = await openFeed(t, ws('/dashboard/ws'));
  await feed.next('hello');
  const first = await feed.next('state', (s) => s.totals.connections === clients.length);
  assert.equal(first.connections.rows.length, 100);
  assert.equal(first.connections.matching, 1_000);
  const seen = new Set(first.connections.rows.map((row) => row.name));
  for (let offset = 100; offset < 1_000; offset += 100) {
    feed.client.send(JSON.stringify({ type: 'view', offset, limit: 100, filter: '', selected: null }));
    const page = await feed.next('state', (s) => s.connections.offset === offset);
    assert.equal(page.connections.rows.length, 100);
    assert.ok(JSON.stringify(page).length < 64 * 1024, 'a tick stays small however many are connected');
    for (const row of page.connections.rows) seen.add(row.name);
  }
  assert.equal(seen.size, 1_000, 'every connection is on some page');
});

test('the log tab shows why the server refused a handshake or closed a connection, as the server log does', async (t) => {
  const { ws } = await dashboardServer(t, { maxMessageBytes: 128 });
  const feed = await openFeed(t, ws('/dashboard/ws'));
  await feed.next('hello');
  await refusedHandshake(ws('/nothing'));
  const refusal = await feed.next('log', (b) => b.entries.some((e) => e.kind === 'server'));
  assert.match(refusal.entries.find((e) => e.kind === 'server')?.text ?? '', /^handshake refused \(\/nothing 404\): There is no WebSocket endpoint at \/nothing\./);
  const big = await TestClient.connect(t, ws('/echo?name=big'));
  big.send('x'.repeat(200));
  await big.closed;
  const closed = await feed.next('log', (b) => b.entries.some((e) => e.kind === 'server' && e.text.startsWith('disconnected')));
  assert.equal(closed.entries.find((e) => e.text.startsWith('disconnected'))?.text, 'disconnected (/echo): message too big');
});

test('the page is told how to run doctor and client where this server runs (here: a clone, so npm run … --)', async (t) => {
  const { ws, port } = await dashboardServer(t);
  const feed = await openFeed(t, ws('/dashboard/ws'), { Origin: `http://127.0.0.1:${port}` });
  const hello = await feed.next('hello');
  assert.deepEqual(hello.commands, { doctor: 'npm run doctor --', client: 'npm run client --' });
});
