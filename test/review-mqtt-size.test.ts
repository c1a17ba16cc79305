/** Review: what the broker sends is bounded by maxMessageBytes before it is mapped, queued or relayed. */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import { capturedLogger, startServer, TestClient } from './helpers.js';
import { skipUnless } from './services.js';

const skip = await skipUnless('Mosquitto', 1883);
const prefix = `resobridge-review/${process.pid}-${Date.now()}`;

async function brokerClient(t: TestContext) {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
  t.after(() => client.endAsync(true));
  return client;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), 'condition not reached within 10 s');
}

test('mqtt: a message over maxMessageBytes is dropped (and logged) before it is mapped or relayed', { skip, timeout: 60_000 }, async (t) => {
  const log = capturedLogger('warn');
  const { ws, server } = await startServer(t, {
    logger: log.logger,
    maxMessageBytes: 4096,
    bridges: [
      {
        type: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        subscribe: { [`${prefix}/raw`]: 'raw', [`${prefix}/mapped`]: { channel: 'mapped', in: { lines: '["m", $length(payload.text)]' } } },
      },
    ],
  });
  await until(() => server.bridges()[0]?.state === 'connected');
  const raw = await TestClient.connect(t, ws('/channel/raw'));
  const mapped = await TestClient.connect(t, ws('/channel/mapped'));
  const peer = await brokerClient(t);
  const huge = JSON.stringify({ text: 'x'.repeat(1024 * 1024) });
  await peer.publishAsync(`${prefix}/raw`, huge);
  await peer.publishAsync(`${prefix}/mapped`, huge);
  await peer.publishAsync(`${prefix}/raw`, 'small');
  await peer.publishAsync(`${prefix}/mapped`, '{"text":"small"}');
  assert.equal(await raw.next(), `mqtt|${prefix}/raw|small`);
  assert.equal(await mapped.next(), 'm|5');
  assert.equal(log.find('mqtt message over maxMessageBytes; not relayed').length, 1, 'logged, rate-limited');
});
