/** A bridge's state, the same everywhere: /healthz, the dashboard's feed, /metrics and the banner (connected reads "up"). */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import type { BridgeStatus } from '../src/bridges/bridge.js';
import { bannerText } from '../src/cli/banner.js';
import type { ServerMessage } from '../src/dashboard/wire.js';
import { closedPort } from './fixtures.js';
import { startServer, TestClient } from './helpers.js';

const mosquitto = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
const skipOwn = process.env.CI === 'true' || mosquitto ? false : 'the mosquitto program is not installed (apt-get install -y mosquitto)';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), 'condition not reached within 10 s');
}

/** Accepts TCP and never answers: an MQTT client stays "connecting" (until its connect timeout). */
async function silentBroker(t: TestContext) {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, sockets };
}

/** A Mosquitto of this test's own that wants a username and password. */
async function passwordBroker(t: TestContext, port: number) {
  const folder = mkdtempSync(join(tmpdir(), 'resobridge-mosquitto-'));
  // Started as root, mosquitto reads the file as its own user.
  chmodSync(folder, 0o755);
  const passwords = join(folder, 'passwords');
  writeFileSync(passwords, '');
  spawnSync('mosquitto_passwd', ['-b', passwords, 'world', 'the-right-password']);
  chmodSync(passwords, 0o644);
  const config = join(folder, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwords}\npersistence false\n`);
  const child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    const up = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'world', password: 'the-right-password', reconnectPeriod: 0, connectTimeout: 500 })
      .then(
        (client) => client.endAsync(true).then(() => true),
        () => false,
      );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('mosquitto did not start');
}

test('connecting, up, retrying (why) and failed (why) in /healthz, the dashboard feed, /metrics and the banner', { skip: skipOwn, timeout: 60_000 }, async (t) => {
  const silent = await silentBroker(t);
  const guarded = await closedPort();
  await passwordBroker(t, guarded);
  process.env.RB_TEST_WRONG_PASSWORD = 'a-wrong-password';
  t.after(() => delete process.env.RB_TEST_WRONG_PASSWORD);
  const { http, ws, port, server } = await startServer(t, {
    dashboard: true,
    bridges: [
      { type: 'mqtt', name: 'silent', url: `mqtt://127.0.0.1:${silent.port}` },
      { type: 'mqtt', name: 'away', url: `mqtt://127.0.0.1:${await closedPort()}` },
      { type: 'mqtt', name: 'guarded', url: `mqtt://127.0.0.1:${guarded}`, username: 'world', password: { env: 'RB_TEST_WRONG_PASSWORD' } },
      { type: 'webhook', name: 'hook', url: 'http://127.0.0.1:1/hook', channel: 'alerts', deadLetter: join(mkdtempSync(join(tmpdir(), 'resobridge-dead-')), 'dead.jsonl') },
    ],
  });
  const state = (name: string) => server.bridges().find((bridge) => bridge.name === name)?.state;
  await until(() => silent.sockets.length > 0 && state('away') === 'retrying' && state('guarded') === 'failed');

  const health = (await (await fetch(http('/healthz'))).json()) as { status: string; bridges: BridgeStatus[] };
  const feed = await TestClient.connect(t, ws('/dashboard/ws'), { headers: { Origin: `http://127.0.0.1:${port}` } });
  let rows: { name: string; state: string; label: string; detail?: string }[] = [];
  for (let i = 0; i < 20 && rows.length === 0; i++) {
    const message = JSON.parse(await feed.next()) as ServerMessage;
    if (message.type === 'state') rows = message.bridges;
  }
  const metrics = await (await fetch(http('/metrics'))).text();
  const banner = bannerText(server, { address: '127.0.0.1', family: 'IPv4', port });
  // mqtt.js gives up on a silent broker after its 5 s connect timeout: only while that socket is open is "connecting" certain.
  const stillConnecting = silent.sockets.length === 1 && !silent.sockets[0]?.closed;

  assert.equal(health.status, 'ok', 'bridges do not make the server unhealthy');
  const byName = new Map(health.bridges.map((bridge) => [bridge.name, bridge]));
  if (stillConnecting) {
    assert.equal(byName.get('silent')?.state, 'connecting');
    assert.equal(byName.get('silent')?.detail, `mqtt://127.0.0.1:${silent.port}`);
    assert.match(banner, new RegExp(`mqtt silent: connecting, mqtt://127\\.0\\.0\\.1:${silent.port}`));
  } else {
    t.diagnostic('the silent broker timed out before the checks (a slow machine): "connecting" not checked');
  }
  assert.equal(byName.get('away')?.state, 'retrying');
  assert.match(byName.get('away')?.detail ?? '', /unreachable; reconnecting/);
  assert.equal(byName.get('guarded')?.state, 'failed');
  assert.match(byName.get('guarded')?.detail ?? '', /refused the login \((Not authorized|Bad username or password)\): check username and password, then restart the server/);
  assert.equal(byName.get('hook')?.state, 'connected');

  const byRow = new Map(rows.map((row) => [row.name, row]));
  assert.deepEqual([byRow.get('hook')?.state, byRow.get('hook')?.label], ['connected', 'up'], 'the dashboard shows connected as "up"');
  assert.deepEqual([byRow.get('away')?.label, byRow.get('away')?.detail], ['retrying', byName.get('away')?.detail]);
  assert.deepEqual([byRow.get('guarded')?.label, byRow.get('guarded')?.detail], ['failed', byName.get('guarded')?.detail]);
  if (stillConnecting) assert.equal(byRow.get('silent')?.label, 'connecting');

  assert.match(metrics, /resobridge_bridge_up\{name="hook",type="webhook"\} 1/);
  assert.match(metrics, /resobridge_bridge_up\{name="guarded",type="mqtt"\} 0/);
  assert.match(metrics, /resobridge_bridge_state\{name="guarded",type="mqtt",state="failed"\} 1/);
  assert.match(metrics, /resobridge_bridge_state\{name="away",type="mqtt",state="retrying"\} 1/);

  assert.match(banner, /Bridges:\n/);
  assert.match(banner, /webhook hook: up, POST to http:\/\/127\.0\.0\.1:1\/hook/);
  assert.match(banner, /mqtt guarded: failed, .*refused the login/);
  for (const text of [JSON.stringify(health), JSON.stringify(rows), metrics, banner]) assert.ok(!text.includes('a-wrong-password'));
});
