import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createServer, type ServerOptions } from '../src/index.js';
import { HypeRateDouble } from './doubles/hyperate.js';
import { PulsoidDouble } from './doubles/pulsoid.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';

const TOKEN = 'pulsoid-token-0123456789abcdef';
const KEY = 'hyperate-key-0123456789abcdef';

type Bridges = NonNullable<ServerOptions['bridges']>;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), `not reached within 10 s: ${what}`);
}

async function serve(t: TestContext, bridge: Record<string, unknown>, options: ServerOptions = {}) {
  const started = await startServer(t, { bridges: [{ type: 'heart-rate', ...bridge } as Bridges[number]], ...options });
  const bridgeState = () => started.server.bridges()[0];
  return { ...started, bridgeState };
}

test('Pulsoid: each reading is hr|<bpm>; a silent feed becomes hr|lost, and the next beat hr|<bpm> again', async (t) => {
  const pulsoid = await PulsoidDouble.start(t, TOKEN);
  const { ws, bridgeState } = await serve(t, { service: 'pulsoid', token: TOKEN, url: pulsoid.url, lostAfter: 1 });
  await until(() => bridgeState()?.state === 'connected' && pulsoid.open.length === 1, 'connected');
  assert.match(bridgeState()?.detail ?? '', /^pulsoid at ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/data\/real_time → channel heart-rate$/);
  const world = await TestClient.connect(t, ws('/channel/heart-rate'));
  pulsoid.beat(72);
  assert.equal(await world.next(), 'hr|72');
  assert.equal(await world.next(), 'hr|lost', 'no beat for lostAfter');
  pulsoid.beat(80.4);
  assert.equal(await world.next(), 'hr|80', 'back, rounded to a whole bpm');
});

test('Pulsoid: readings are coalesced: a slow world gets the latest, not a backlog, and no drop notices', async (t) => {
  const pulsoid = await PulsoidDouble.start(t, TOKEN);
  const { ws, bridgeState } = await serve(t, { service: 'pulsoid', token: TOKEN, url: pulsoid.url }, { outboundRate: 5, outboundBurst: 1 });
  await until(() => bridgeState()?.state === 'connected' && pulsoid.open.length === 1, 'connected');
  const world = await TestClient.connect(t, ws('/channel/heart-rate'));
  for (let bpm = 60; bpm < 120; bpm++) pulsoid.beat(bpm);
  const received: string[] = [];
  while (received.at(-1) !== 'hr|119') received.push(await world.next());
  assert.ok(received.length < 60, `coalesced to ${received.length} lines`);
  assert.ok(received.every((text) => /^hr\|\d+$/.test(text)), 'no dropped|n for coalesced values');
});

test('Pulsoid: a refused token fails for good with a detail that says what to do; the token is never shown', async (t) => {
  const pulsoid = await PulsoidDouble.start(t, 'the-right-token');
  const captured = capturedLogger();
  const { http, bridgeState } = await serve(t, { service: 'pulsoid', token: TOKEN, url: pulsoid.url }, { logger: captured.logger });
  await until(() => bridgeState()?.state === 'failed', 'failed');
  assert.equal(bridgeState()?.detail, 'pulsoid refused the token (HTTP 401). Make a new token at https://pulsoid.net/ui/keys (scope data:heart_rate:read), put it where token points, and restart.');
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // longer than the first backoff step: a retry would have come
  assert.equal(pulsoid.attempts, 1, 'no retries with a token that was refused');
  const health = await (await fetch(http('/healthz'))).text();
  for (const text of [health, captured.text()]) assert.ok(!text.includes(TOKEN), 'the token leaked');
});

test('Pulsoid: a dropped connection is retried with backoff, and readings flow again', async (t) => {
  const pulsoid = await PulsoidDouble.start(t, TOKEN);
  const { ws, bridgeState } = await serve(t, { service: 'pulsoid', token: TOKEN, url: pulsoid.url });
  await until(() => bridgeState()?.state === 'connected' && pulsoid.open.length === 1, 'connected');
  const world = await TestClient.connect(t, ws('/channel/heart-rate'));
  pulsoid.dropAll();
  await until(() => bridgeState()?.state === 'retrying', 'retrying');
  assert.match(bridgeState()?.detail ?? '', /closed \(1006\); reconnecting in 1 s$/);
  await until(() => bridgeState()?.state === 'connected' && pulsoid.open.length === 1, 'connected again');
  pulsoid.beat(90);
  assert.equal(await world.next(), 'hr|90');
});

test('HypeRate: joins hr:<id>, keeps the socket with heartbeats, and relays hr_update as hr|<bpm>; 0 is no reading', async (t) => {
  const hyperate = await HypeRateDouble.start(t, KEY, 800);
  const { ws, bridgeState } = await serve(t, { service: 'hyperate', token: KEY, id: 'internal-testing', url: hyperate.url, heartbeatSeconds: 0.1, worldChannel: 'pulse', lostAfter: 1 });
  await until(() => bridgeState()?.state === 'connected', 'joined');
  const [session] = hyperate.sessions;
  assert.ok(session);
  assert.deepEqual(session.received[0], { topic: 'hr:internal-testing', event: 'phx_join', payload: {}, ref: '1' });
  const world = await TestClient.connect(t, ws('/channel/pulse'));
  hyperate.beat('internal-testing', 79);
  assert.equal(await world.next(), 'hr|79');
  hyperate.beat('someone-else', 120);
  hyperate.beat('internal-testing', 0);
  assert.equal(await world.next(), 'hr|lost', 'a 0 is no reading, another device is not ours: lost after lostAfter');
  await until(() => session.heartbeats >= 25, '25 heartbeats');
  assert.deepEqual(session.received.find((m) => m.event === 'heartbeat'), { topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '2' });
  assert.equal(session.timedOut, false, 'heartbeats kept the socket open past several of the double’s timeouts');
  assert.equal(hyperate.sessions.length, 1, 'one connection all along');
  hyperate.beat('internal-testing', 81);
  assert.equal(await world.next(), 'hr|81');
});

test('HypeRate: heartbeats too slow for the server: it closes the socket, and the bridge reconnects with backoff', async (t) => {
  const hyperate = await HypeRateDouble.start(t, KEY, 300);
  const { bridgeState } = await serve(t, { service: 'hyperate', token: KEY, id: 'abc', url: hyperate.url, heartbeatSeconds: 5 });
  await until(() => hyperate.sessions[0]?.timedOut === true, 'the double closed the first socket');
  await until(() => bridgeState()?.state === 'retrying', 'retrying');
  assert.match(bridgeState()?.detail ?? '', /closed \(1000\); reconnecting in 1 s$/);
  await until(() => hyperate.sessions.length === 2 && bridgeState()?.state === 'connected', 'reconnected and joined again');
});

test('HypeRate: a refused key fails for good (HTTP 403) with what to do', async (t) => {
  const hyperate = await HypeRateDouble.start(t, 'the-right-key');
  const { bridgeState } = await serve(t, { service: 'hyperate', token: KEY, id: 'abc', url: hyperate.url });
  await until(() => bridgeState()?.state === 'failed', 'failed');
  assert.match(bridgeState()?.detail ?? '', /^hyperate refused the token \(HTTP 403\)\. Check the API key/);
  assert.equal(hyperate.attempts, 1);
});

test('bad heart-rate config names the key and what is allowed', () => {
  const make = (spec: Record<string, unknown>) => () => createServer({ logLevel: 'silent', store: 'memory', bridges: [{ type: 'heart-rate', ...spec } as Bridges[number]] });
  assert.throws(make({ service: 'hyperate', token: KEY }), /id is the HypeRate device ID: required with service: hyperate/);
  assert.throws(make({ service: 'pulsoid', token: TOKEN, id: 'x' }), /not used with pulsoid/);
  assert.throws(make({ service: 'fitbit', token: TOKEN }), /service is pulsoid or hyperate/);
  assert.throws(make({ service: 'pulsoid' }), /token/);
  assert.throws(make({ service: 'pulsoid', token: TOKEN, url: 'ws://bad host/x' }), /url is not a valid URL/);
  assert.throws(make({ service: 'pulsoid', token: { file: '/nonexistent/token' } }), /bridge "pulsoid": token: cannot read the file \/nonexistent\/token/);
});
