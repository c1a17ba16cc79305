/** /healthz says when a node is not fully serving: shutting down, or cut off from its broker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENGINES, eventually, ownBroker } from './cluster-helpers.js';
import { existsSync } from 'node:fs';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

async function health(url: string): Promise<{ code: number; body: { status: string; broker: { state: string; description: string } } }> {
  const response = await fetch(url);
  return { code: response.status, body: (await response.json()) as never };
}

test('while shutting down, /healthz answers 503 "shutting down", and new handshakes a 503 that says why', { timeout: 30_000 }, async (t) => {
  // The linger before the close frame keeps the shutdown under way while the test looks.
  const { server, http, ws } = await startServer(t, { closeLingerMs: 10_000 });
  const before = await health(http('/healthz'));
  assert.equal(before.code, 200);
  assert.deepEqual([before.body.status, before.body.broker.state], ['ok', 'connected']);
  const client = await TestClient.connect(t, ws('/echo'));
  const closing = server.close();
  assert.equal(await client.next(), 'server|shutting down');
  const during = await health(http('/healthz'));
  assert.equal(during.code, 503);
  assert.equal(during.body.status, 'shutting down');
  const refused = await refusedHandshake(ws('/echo'));
  assert.equal(refused.status, 503);
  assert.match(refused.body, /starting or stopping/);
  client.socket.terminate();
  await closing;
});

for (const engine of ENGINES.filter((e) => e.name === 'redis')) {
  // The test stops a Redis of its own (never the shared one): it needs the redis-server program.
  const skip = process.env.CI === 'true' || existsSync('/usr/bin/redis-server') ? false : 'redis-server is not installed (CI=true makes this a failure)';
  test(`${engine.name}: /healthz reports the broker, and 503 while it is unreachable`, { skip, timeout: 60_000 }, async (t) => {
    const broker = await ownBroker(t, engine);
    const { http } = await startServer(t, { broker: engine.url(broker.port, `rbt_health_${process.pid}`) });
    const up = await health(http('/healthz'));
    assert.equal(up.code, 200);
    assert.equal(up.body.broker.state, 'connected');
    assert.match(up.body.broker.description, /^redis at redis:\/\/127\.0\.0\.1:\d+/);
    await broker.stop();
    const down = await eventually(() => health(http('/healthz')), (answer) => answer.code === 503, 'healthz once the broker is gone');
    assert.deepEqual([down.body.status, down.body.broker.state], ['broker unreachable', 'unreachable']);
    await broker.start();
    await eventually(() => health(http('/healthz')), (answer) => answer.code === 200 && answer.body.broker.state === 'connected', 'healthz once the broker is back');
  });
}
