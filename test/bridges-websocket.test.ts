/** The `websocket` bridge: resobridge as a client of an app's WebSocket API, mapped both ways, kept up, within limits. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { bannerText } from '../src/cli/banner.js';
import { ConfigError } from '../src/config/errors.js';
import type { ServerMessage } from '../src/dashboard/wire.js';
import { createServer } from '../src/index.js';
import type { BridgeSpecInput } from '../src/bridges/registry.js';
import { WebSocketApp } from './doubles/websocket-app.js';
import { closedPort, silentTcp } from './fixtures.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await sleep(20);
  assert.ok(check(), `not reached within 10 s: ${what}`);
}

/** A chat-like app: the world's `say|…` becomes {"type":"say",…}; the app's {"type":"say",…} comes back as `said|<from>|<text>`. */
const chat = (url: string, more: Partial<Extract<BridgeSpecInput, { type: 'websocket' }>> = {}): BridgeSpecInput => ({
  type: 'websocket',
  name: 'chat',
  url,
  channel: 'chat',
  onOpen: [{ type: 'hello', version: 1 }, 'PLAIN HELLO'],
  out: { say: '{"type": "say", "text": args[0], "from": from}' },
  in: { when: 'type = "say"', lines: '["said", from, text]', keys: '{"last": text}' },
  ...more,
});

test('websocket: the handshake goes first; a world line goes out mapped, the app\'s JSON comes back mapped, and its keys reach a watcher', async (t) => {
  const app = await WebSocketApp.start(t);
  const { ws, server, http } = await startServer(t, { bridges: [chat(app.url)] });
  await until(() => server.bridges()[0]?.state === 'connected', 'connected');
  assert.equal(server.bridges()[0]?.detail, `${app.url}: channel chat (app → world mapped, world → app mapped)`);
  await app.until(() => app.received.length >= 2, 'the handshake');
  assert.deepEqual(app.received, ['{"type":"hello","version":1}', 'PLAIN HELLO']);

  const watcher = await TestClient.connect(t, ws('/api'));
  assert.equal(await watcher.ask('watch|last'), 'missing|last');
  const world = await TestClient.connect(t, ws('/channel/chat?name=Alice'));
  world.send('say|hello %7C there');
  await app.until(() => app.received.length >= 3, 'the mapped line');
  assert.deepEqual(JSON.parse(app.received[2] ?? ''), { type: 'say', text: 'hello | there', from: 'Alice' });
  // The app echoed it: mapped to a line, escaped by the protocol's codec.
  assert.equal(await world.next(), 'said|Alice|hello %7C there');
  assert.equal(await watcher.next(), 'value|last|hello %7C there');

  // Filtered out by `when`; the hello echoes were too. A line with no out expression is not sent.
  app.broadcast('{"type":"other"}');
  world.send('unmapped|x');
  app.broadcast('{"type":"say","from":"App","text":"2"}');
  assert.equal(await world.next(), 'said|App|2');
  assert.equal(app.received.length, 3, 'the unmapped world line was not sent');

  const health = (await (await fetch(http('/healthz'))).json()) as { bridges: { name: string; type: string; state: string }[] };
  assert.deepEqual(health.bridges.map(({ name, type, state }) => ({ name, type, state })), [{ name: 'chat', type: 'websocket', state: 'connected' }]);
});

test('websocket with no mappings relays raw payloads both ways', async (t) => {
  const app = await WebSocketApp.start(t, { echo: false });
  const { ws, server } = await startServer(t, { bridges: [{ type: 'websocket', url: app.url, channel: 'raw', subprotocol: 'chat.v1', ping: 0 }] });
  await until(() => server.bridges()[0]?.state === 'connected', 'connected');
  assert.equal(server.bridges()[0]?.name, 'websocket-raw');
  assert.deepEqual(app.protocols, ['chat.v1']);
  const world = await TestClient.connect(t, ws('/channel/raw'));
  world.send('anything|goes %7C here');
  await app.until(() => app.received.length === 1, 'the world line');
  assert.equal(app.received[0], 'anything|goes %7C here');
  app.broadcast('{"a": [1, 2]} | as it came');
  assert.equal(await world.next(), '{"a": [1, 2]} | as it came');
});

test('websocket: the app restarts; the bridge retries (saying why), drops world lines meanwhile (counted), and sends the handshake again', async (t) => {
  const app = await WebSocketApp.start(t);
  const { ws, server } = await startServer(t, { bridges: [chat(app.url)] });
  await app.until(() => app.received.length === 2, 'the first handshake');
  await until(() => server.bridges()[0]?.state === 'connected', 'connected');
  const world = await TestClient.connect(t, ws('/channel/chat?name=Bob'));

  await app.stop();
  await until(() => server.bridges()[0]?.state === 'retrying', 'retrying');
  assert.match(server.bridges()[0]?.detail ?? '', /closed the connection \(code 1006\); trying again in 1 s/);
  world.send('say|lost');
  await until(() => /1 world line\(s\) dropped while the app was away/.test(server.bridges()[0]?.detail ?? ''), 'the drop counted');

  await app.listen();
  await until(() => server.bridges()[0]?.state === 'connected', 'connected again');
  await app.until(() => app.received.length === 4, 'the second handshake');
  assert.deepEqual(app.received.slice(2), ['{"type":"hello","version":1}', 'PLAIN HELLO'], 'the handshake again, and nothing of what was dropped');
  assert.equal(app.connections, 2);
  world.send('say|back');
  assert.equal(await world.next(), 'said|Bob|back');
});

test('websocket keepalive: WebSocket pings and an app-level message; an app that stops answering pings is dropped and retried', async (t) => {
  const app = await WebSocketApp.start(t, { echo: false });
  const { server } = await startServer(t, { bridges: [{ type: 'websocket', url: app.url, channel: 'k', ping: 0.3, keepalive: { every: 1, send: { type: 'ping' } } }] });
  await app.until(() => app.pings >= 3, 'three pings');
  await app.until(() => app.received.includes('{"type":"ping"}'), 'the app-level keepalive');
  assert.equal(server.bridges()[0]?.state, 'connected', 'pings answered: still up');
  assert.equal(app.connections, 1);

  const frozen = await WebSocketApp.start(t, { autoPong: false });
  const { server: other } = await startServer(t, { bridges: [{ type: 'websocket', url: frozen.url, channel: 'f', ping: 0.1 }] });
  await until(() => other.bridges()[0]?.state === 'retrying', 'retrying');
  assert.match(other.bridges()[0]?.detail ?? '', /the app did not answer a ping within 0\.1 s; trying again in 1 s/);
});

test('websocket: a close code in noRetryCodes fails the bridge with a clear status, and it does not try again', async (t) => {
  const app = await WebSocketApp.start(t, { closeWith: 4009 });
  const refusing = await WebSocketApp.start(t, { closeWith: 4321 });
  const { server } = await startServer(t, {
    bridges: [
      { type: 'websocket', name: 'obs', url: app.url, channel: 'a' },
      { type: 'websocket', name: 'custom', url: refusing.url, channel: 'b', noRetryCodes: [4321] },
    ],
  });
  await until(() => server.bridges().every((bridge) => bridge.state === 'failed'), 'both failed');
  assert.match(server.bridges()[0]?.detail ?? '', /closed the connection with code 4009: go away, which means "don't retry" \(noRetryCodes\); fix what the app refused/);
  // Well past the first retry delay (1 s): still one attempt each.
  await sleep(1_500);
  assert.equal(app.connections, 1);
  assert.equal(refusing.connections, 1);
  assert.equal(server.bridges()[0]?.state, 'failed');
});

test('websocket: "connecting" while the first attempt is under way, in /healthz, the banner and the dashboard; an app that is not there is retried', async (t) => {
  const silent = await silentTcp(t);
  const nowhere = await closedPort();
  const { server, http, ws, port } = await startServer(t, {
    dashboard: true,
    bridges: [
      { type: 'websocket', name: 'slow', url: `ws://127.0.0.1:${silent}/`, channel: 'a' },
      { type: 'websocket', name: 'gone', url: `ws://127.0.0.1:${nowhere}/`, channel: 'b' },
    ],
  });
  await until(() => server.bridges()[1]?.state === 'retrying', 'retrying');
  assert.match(server.bridges()[1]?.detail ?? '', /refused the connection \(is the app running and its WebSocket server on\?\); trying again in 1 s \(attempt 2\)/);
  const health = (await (await fetch(http('/healthz'))).json()) as { bridges: { name: string; state: string; detail: string }[] };
  assert.deepEqual(health.bridges[0], { name: 'slow', type: 'websocket', state: 'connecting', detail: `connecting to ws://127.0.0.1:${silent}` });
  // The banner, and the dashboard's Bridges tab (its feed; the badge's class is the state).
  const address = server.address;
  assert.ok(address);
  assert.match(bannerText(server, address), new RegExp(`Bridges:\\n  websocket slow: connecting, connecting to ws://127\\.0\\.0\\.1:${silent}\\n  websocket gone: retrying, .*refused the connection`));
  const feed = await TestClient.connect(t, ws('/dashboard/ws'), { headers: { Origin: `http://127.0.0.1:${port}` } });
  for (let i = 0; i < 100; i++) {
    const message = JSON.parse(await feed.next()) as ServerMessage;
    if (message.type !== 'state') continue;
    assert.deepEqual(message.bridges.map(({ name, state }) => [name, state]), [['slow', 'connecting'], ['gone', 'retrying']]);
    return;
  }
  assert.fail('no state message from the dashboard feed');
});

test('websocket: a bad expression stops start-up, naming the bridge, the setting and the position; a bad setting names the key', () => {
  const bad = (mapping: object) => () => createServer({ port: 0, logLevel: 'silent', store: 'memory', bridges: [{ type: 'websocket', name: 'obs', url: 'ws://127.0.0.1:1/', channel: 'obs', ...mapping }] });
  assert.throws(bad({ in: { lines: '["scene", eventData.sceneName' } }), (error: Error) => {
    assert.ok(error instanceof ConfigError, 'a ConfigError: serve prints it and exits');
    assert.match(error.message, /^bridge "obs": in\.lines: the JSONata expression has an error at character \d+/);
    return true;
  });
  assert.throws(bad({ out: { scene: '{"a": }' } }), /bridge "obs": out\.scene: the JSONata expression has an error/);
  assert.throws(bad({ in: {} }), /an in mapping needs lines, keys, or both/);
  // Picked by type: the error is about the key that is wrong, not "Invalid input".
  assert.throws(bad({ ping: 'often' }), /\[0\]\.ping: Invalid input: expected number, received string/);
  assert.throws(bad({ url: 'http://127.0.0.1/' }), /\[0\]\.url: url must look like ws:\/\/host:port\/path \(or wss:\/\/\)/);
});

test('websocket: an expression that throws drops that message only, logged once; the next one passes', async (t) => {
  const logs = capturedLogger();
  const app = await WebSocketApp.start(t, { echo: false });
  const { ws, server } = await startServer(t, {
    logger: logs.logger,
    bridges: [{ type: 'websocket', url: app.url, channel: 'n', in: { lines: 'bad ? $error("this message is bad") : ["n", n]' }, maxMessageBytes: 1024 }],
  });
  await until(() => server.bridges()[0]?.state === 'connected', 'connected');
  const world = await TestClient.connect(t, ws('/channel/n'));
  app.broadcast('{"n": 1}');
  assert.equal(await world.next(), 'n|1');
  app.broadcast('{"bad": true}');
  app.broadcast('{"bad": true}');
  app.broadcast(`{"n": "${'x'.repeat(2000)}"}`);
  app.broadcast('{"n": 2.5}');
  assert.equal(await world.next(), 'n|2.5', 'the bad ones and the one too big were dropped, in order');
  const failed = logs.find('the in mapping failed on a message from the app; that message was dropped');
  assert.equal(failed.length, 1, 'rate-limited: logged once');
  assert.match(String(failed[0]?.err), /in\.lines: this message is bad/);
  assert.equal(logs.find('the app sent a message over maxMessageBytes (1024); dropped (raise maxMessageBytes on the bridge if it is expected)').length, 1);
  assert.equal(server.bridges()[0]?.state, 'connected', 'the bridge stays up');
});

test('websocket: a header or query secret from the environment reaches the app, never the logs or /healthz', async (t) => {
  const secret = `s3cret-${process.pid}-${Date.now()}`;
  const query = `q-${secret}`;
  process.env.RESOBRIDGE_TEST_WS_TOKEN = secret;
  t.after(() => delete process.env.RESOBRIDGE_TEST_WS_TOKEN);
  const logs = capturedLogger();
  const app = await WebSocketApp.start(t, { closeWith: 1008 });
  const { server, http } = await startServer(t, {
    logger: logs.logger,
    bridges: [
      {
        type: 'websocket',
        name: 'secretive',
        url: `${app.url}/api?plain=${query}`,
        channel: 's',
        headers: { Authorization: { env: 'RESOBRIDGE_TEST_WS_TOKEN' }, 'X-Plain': 'visible' },
        query: { access_token: { env: 'RESOBRIDGE_TEST_WS_TOKEN' } },
      },
    ],
  });
  await until(() => server.bridges()[0]?.state === 'failed', 'failed (1008)');
  assert.equal(app.headers[0]?.authorization, secret);
  assert.equal(app.paths[0], `/api?plain=${query}&access_token=${secret}`);
  assert.equal(app.headers[0]?.['x-plain'], 'visible');
  const health = await (await fetch(http('/healthz'))).text();
  assert.match(health, /api\?…/);
  for (const text of [health, logs.text(), JSON.stringify(server.bridges())]) {
    assert.ok(!text.includes(secret), 'the header secret never shows');
    assert.ok(!text.includes(query), 'the URL query (a token) never shows');
  }

  delete process.env.RESOBRIDGE_TEST_WS_TOKEN;
  assert.throws(
    () => createServer({ port: 0, logLevel: 'silent', store: 'memory', bridges: [{ type: 'websocket', name: 'x', url: app.url, channel: 's', headers: { Authorization: { env: 'RESOBRIDGE_TEST_WS_TOKEN' } } }] }),
    /bridge "x": headers\.Authorization: the environment variable RESOBRIDGE_TEST_WS_TOKEN is not set/,
  );
});

test('websocket: coalesce publishes lines keyed by tag and first field, for a world that cannot keep up', async (t) => {
  const app = await WebSocketApp.start(t, { echo: false });
  const { ws, server } = await startServer(t, {
    bridges: [{ type: 'websocket', url: app.url, channel: 'hr', coalesce: true, in: { lines: '["hr", who, bpm]' } }],
    outboundRate: 20,
    outboundBurst: 1,
  });
  await until(() => server.bridges()[0]?.state === 'connected', 'connected');
  const world = await TestClient.connect(t, ws('/channel/hr'));
  for (let bpm = 1; bpm <= 50; bpm++) app.broadcast(JSON.stringify({ who: 'Ann', bpm }));
  const received: string[] = [];
  while (received.at(-1) !== 'hr|Ann|50') received.push(await world.next());
  assert.ok(received.length < 50, `coalesced to ${received.length} lines`);
  assert.ok(received.every((line) => /^hr\|Ann\|\d+$/.test(line)), 'coalesced, not dropped');
});

test('websocket: the config examples in docs/bridges.md are valid and their expressions compile', async () => {
  const { parse } = await import('yaml');
  const doc = readFileSync(new URL('../docs/bridges.md', import.meta.url), 'utf8');
  // The websocket section and the mapping section after it.
  const section = doc.slice(doc.indexOf('## `websocket`'), doc.indexOf('\n## ', doc.indexOf('## Mapping JSON to world lines')));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  assert.ok(blocks.length >= 3);
  const [full = '', ...fragments] = blocks;
  const { bridges } = parse(full) as { bridges: BridgeSpecInput[] };
  // Fragments (out/in/headers) are completed into a bridge of their own.
  const more = fragments.map((fragment) => ({ type: 'websocket', url: 'ws://127.0.0.1:1/', channel: 'docs', ...(parse(fragment) as object) }) as BridgeSpecInput);
  process.env.APP_TOKEN = 'docs-example';
  process.env.HYPERATE_KEY = 'docs-example';
  try {
    createServer({ port: 0, logLevel: 'silent', store: 'memory', bridges: [...bridges, ...more.filter((spec) => !('headers' in spec))] });
  } finally {
    delete process.env.APP_TOKEN;
    delete process.env.HYPERATE_KEY;
  }
});
