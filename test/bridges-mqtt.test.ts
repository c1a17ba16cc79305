import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import { matches } from '../src/bridges/mqtt.js';
import { closedPort } from './fixtures.js';
import { startServer, TestClient } from './helpers.js';
import { skipUnless } from './services.js';

const skipShared = await skipUnless('Mosquitto', 1883);
const mosquitto = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
const skipOwn = process.env.CI === 'true' || mosquitto ? false : 'the mosquitto program is not installed (apt-get install -y mosquitto)';

/** A topic prefix of this run's own, so tests on the shared broker never see each other. */
const prefix = `resobridge-test/${process.pid}-${Date.now()}`;

async function brokerClient(t: TestContext, url = 'mqtt://127.0.0.1:1883') {
  const client = await mqtt.connectAsync(url);
  t.after(() => client.endAsync(true));
  return client;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), 'condition not reached within 10 s');
}

test('MQTT topic filters match like the broker does', () => {
  assert.ok(matches('home/+/temperature', 'home/kitchen/temperature'));
  assert.ok(!matches('home/+/temperature', 'home/kitchen/humidity'));
  assert.ok(matches('home/#', 'home/a/b/c'));
  assert.ok(matches('#', 'anything'));
  assert.ok(!matches('home/+', 'home/a/b'));
});

test('MQTT in and out through the local Mosquitto', { skip: skipShared }, async (t) => {
  const { ws, server } = await startServer(t, {
    bridges: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1883', name: 'home', subscribe: { [`${prefix}/+/temperature`]: 'home' }, publish: { lights: `${prefix}/lights/set` } }],
  });
  await until(() => server.bridges()[0]?.state === 'connected');
  const world = await TestClient.connect(t, ws('/channel/home'));
  const peer = await brokerClient(t);
  await peer.publishAsync(`${prefix}/kitchen/temperature`, '21.5');
  assert.equal(await world.next(), `mqtt|${prefix}/kitchen/temperature|21.5`);

  await peer.subscribeAsync(`${prefix}/lights/set`);
  const arrived = new Promise<[string, Buffer]>((resolve) => peer.once('message', (topic, payload) => resolve([topic, payload])));
  const switcher = await TestClient.connect(t, ws('/channel/lights'));
  switcher.send('ON|50%');
  const [topic, payload] = await arrived;
  assert.equal(topic, `${prefix}/lights/set`);
  assert.equal(payload.toString(), 'ON|50%');
  assert.match(server.bridges()[0]?.detail ?? '', /mqtt:\/\/127\.0\.0\.1:1883: .*\/\+\/temperature → home, lights → .*\/lights\/set/);
});

/** A Mosquitto of this test's own on a free port, so stopping it disturbs no one. */
async function ownBroker(t: TestContext, port: number) {
  const folder = mkdtempSync(join(tmpdir(), 'resobridge-mosquitto-'));
  const config = join(folder, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    const up = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 }).then(
      (client) => client.endAsync(true).then(() => true),
      () => false,
    );
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('mosquitto did not start');
}

test('MQTT broker outage: the bridge retries, the server keeps serving, and it resumes when the broker is back', { skip: skipOwn, timeout: 60_000 }, async (t) => {
  const port = await closedPort();
  let broker = await ownBroker(t, port);
  const url = `mqtt://127.0.0.1:${port}`;
  const { ws, server } = await startServer(t, { bridges: [{ type: 'mqtt', url, subscribe: { 'sensors/#': 'sensors' } }] });
  await until(() => server.bridges()[0]?.state === 'connected');
  const world = await TestClient.connect(t, ws('/channel/sensors'));

  const stopped = once(broker, 'exit');
  broker.kill('SIGTERM');
  await stopped;
  await until(() => server.bridges()[0]?.state === 'retrying');
  assert.match(server.bridges()[0]?.detail ?? '', /unreachable; reconnecting \(every 1 s, then longer, up to 30 s\)/);
  const echo = await TestClient.connect(t, ws('/echo'));
  assert.equal(await echo.ask('still serving'), 'still serving');

  broker = await ownBroker(t, port);
  await until(() => server.bridges()[0]?.state === 'connected');
  const peer = await brokerClient(t, url);
  await peer.publishAsync('sensors/door', 'open');
  assert.equal(await world.next(), 'mqtt|sensors/door|open', 'subscribed again after the reconnect');
});
