import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

test('an idle client is pinged and stays connected', async (t) => {
  const { ws, server } = await startServer(t, { pingIntervalMs: 50, maxMissedPongs: 2 });
  const client = await TestClient.connect(t, ws('/echo'));
  // Wait for pings as events, well past the point where a non-answering client is dropped.
  while (client.pings < 6) await new Promise((resolve) => client.socket.once('ping', resolve));
  assert.equal(client.socket.readyState, client.socket.OPEN);
  client.send('still connected');
  assert.equal(await client.next(), 'still connected');
  assert.equal(server.address !== null, true);
});

test('a client that stops answering pings is dropped after maxMissedPongs', async (t) => {
  const maxMissedPongs = 3;
  const { ws, http } = await startServer(t, { pingIntervalMs: 50, maxMissedPongs });
  const frozen = await TestClient.connect(t, ws('/echo'), { autoPong: false });
  const { code } = await frozen.closed;
  assert.equal(code, 1006, 'dropped without a close handshake');
  assert.equal(frozen.pings, maxMissedPongs);
  const health = (await (await fetch(http('/healthz'))).json()) as { connections: number };
  assert.equal(health.connections, 0);
});

test('a client that sends but never answers pings is dropped: only a pong shows it reads what it is sent', async (t) => {
  const maxMissedPongs = 3;
  const { ws } = await startServer(t, { pingIntervalMs: 50, maxMissedPongs });
  const talker = await TestClient.connect(t, ws('/echo'), { autoPong: false });
  // It talks after every ping it gets, bounded by count; its messages do not keep it alive.
  talker.socket.on('ping', () => {
    if (talker.socket.readyState === talker.socket.OPEN && talker.pings <= 10 * maxMissedPongs) talker.send('still here');
  });
  const { code } = await talker.closed;
  assert.equal(code, 1006, 'dropped without a close handshake');
  assert.equal(talker.pings, maxMissedPongs);
});
