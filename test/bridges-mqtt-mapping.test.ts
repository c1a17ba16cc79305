/** MQTT with JSONata mappings: JSON payloads → world lines and store keys, world lines → JSON payloads. */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import { createServer } from '../src/index.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';
import { skipUnless } from './services.js';

const skip = await skipUnless('Mosquitto', 1883);
/** A topic prefix of this run's own, so tests on the shared broker never see each other. */
const prefix = `resobridge-map/${process.pid}-${Date.now()}`;

async function brokerClient(t: TestContext) {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
  t.after(() => client.endAsync(true));
  return client;
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('condition not reached within 10 s');
}

test('mqtt in mapping: zigbee2mqtt JSON becomes light|<device>|on and a store key; other messages are filtered out', { skip, timeout: 60_000 }, async (t) => {
  const log = capturedLogger('warn');
  const { ws, server } = await startServer(t, {
    logger: log.logger,
    bridges: [
      {
        type: 'mqtt',
        name: 'zigbee',
        url: 'mqtt://127.0.0.1:1883',
        subscribe: {
          [`${prefix}/z2m/+`]: {
            channel: 'lights',
            in: {
              when: 'payload.state',
              lines: '["light", $split(topic, "/")[-1], $lowercase(payload.state), payload.brightness]',
              keys: '{"light." & $split(topic, "/")[-1]: $lowercase(payload.state)}',
            },
          },
          // A mapping that fails on every message: logged and dropped, the bridge goes on.
          [`${prefix}/broken`]: { channel: 'lights', in: { lines: '$error("no luck")' } },
        },
      },
    ],
  });
  await until(() => server.bridges()[0]?.state === 'connected');
  const world = await TestClient.connect(t, ws('/channel/lights'));
  const api = await TestClient.connect(t, ws('/api'));
  assert.equal(await api.ask('watch|light.kitchen'), 'missing|light.kitchen');
  const peer = await brokerClient(t);
  await peer.publishAsync(`${prefix}/z2m/kitchen`, '{"linkquality": 80}');
  await peer.publishAsync(`${prefix}/broken`, '{}');
  await peer.publishAsync(`${prefix}/z2m/kitchen`, 'not json');
  await peer.publishAsync(`${prefix}/z2m/kitchen`, JSON.stringify({ state: 'ON', brightness: 120.5 }));
  assert.equal(await world.next(), 'light|kitchen|on|120.5', 'the filtered and failed messages made no line');
  assert.equal(await api.next(), 'value|light.kitchen|on');
  await peer.publishAsync(`${prefix}/z2m/kitchen`, JSON.stringify({ state: 'OFF|%' }));
  assert.equal(await world.next(), 'light|kitchen|off%7C%25', 'fields are escaped by the codec; JSONata leaves a missing value out');
  assert.equal(await api.next(), 'value|light.kitchen|off%7C%25');
  assert.equal(server.bridges()[0]?.state, 'connected');
  const failed = log.find('an mqtt message dropped: its mapping failed');
  assert.equal(failed.length, 1, 'logged once');
  assert.match(String(failed[0]?.err), /bridge "zigbee": subscribe ".*\/broken"\.in\.lines: no luck/);
});

test('mqtt out mapping: a world line becomes the JSON payload; tags without an expression are not published', { skip, timeout: 60_000 }, async (t) => {
  const topic = `${prefix}/z2m/kitchen/set`;
  const { ws, server } = await startServer(t, {
    bridges: [
      {
        type: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        publish: {
          kitchen: { topic, out: { light: '{"state": $uppercase(args[1]), "by": from}', raw: 'args[0]' } },
          plain: `${prefix}/plain`,
        },
      },
    ],
  });
  await until(() => server.bridges()[0]?.state === 'connected');
  assert.match(server.bridges()[0]?.detail ?? '', /kitchen → .*\/z2m\/kitchen\/set \(mapped\), plain → .*\/plain/);
  const peer = await brokerClient(t);
  const received: [string, string][] = [];
  peer.on('message', (to, payload) => received.push([to, payload.toString()]));
  await peer.subscribeAsync([topic, `${prefix}/plain`]);
  const world = await TestClient.connect(t, ws('/channel/kitchen?name=Alice'));
  world.send('other|ignored');
  world.send('light|kitchen|on');
  world.send('raw|a %7C b');
  const plain = await TestClient.connect(t, ws('/channel/plain'));
  plain.send('ON|50%');
  await until(() => received.length >= 3);
  assert.deepEqual(received.filter(([to]) => to === topic).map(([, payload]) => payload), ['{"state":"ON","by":"Alice"}', 'a | b']);
  assert.deepEqual(received.filter(([to]) => to !== topic).map(([, payload]) => payload), ['ON|50%'], 'without a mapping, the line as written');
});

test('mqtt: the password may come from an environment variable', { skip, timeout: 60_000 }, async (t) => {
  process.env.RB_TEST_MQTT_PASSWORD = 'env-secret-for-mqtt';
  t.after(() => delete process.env.RB_TEST_MQTT_PASSWORD);
  const { server } = await startServer(t, {
    bridges: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1883', username: 'resobridge', password: { env: 'RB_TEST_MQTT_PASSWORD' } }],
  });
  // The shared broker allows anyone: it either takes the login or refuses it; both are a settled status.
  await until(() => ['connected', 'failed'].includes(server.bridges()[0]?.state ?? ''));
  assert.throws(
    () => createServer({ bridges: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1883', password: { env: 'RB_TEST_UNSET_VARIABLE' } }] }),
    /bridge "mqtt": password: the environment variable RB_TEST_UNSET_VARIABLE is not set/,
  );
});

test('mqtt: a bad mapping setting is refused naming the bridge, the setting and the position', () => {
  assert.throws(
    () => createServer({ bridges: [{ type: 'mqtt', name: 'home', url: 'mqtt://127.0.0.1:1', subscribe: { 'a/#': { channel: 'c', in: { lines: '["x", payload.' } } } }] }),
    /^MappingError: bridge "home": subscribe "a\/#"\.in\.lines: the JSONata expression has an error at character \d+/,
  );
});
