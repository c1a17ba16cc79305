import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from '../src/index.js';
import { capturedLogger, TestClient } from './helpers.js';

test('close() tells every client, lingers, closes with 1001 and stops listening', async (t) => {
  const server = createServer({ port: 0, logLevel: 'silent', store: 'memory', closeLingerMs: 30 });
  const { port } = await server.listen();
  const echo = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo`);
  const member = await TestClient.connect(t, `ws://127.0.0.1:${port}/channel/lobby`);
  await server.close();
  for (const client of [echo, member]) {
    assert.equal(await client.next(), 'server|shutting down');
    assert.deepEqual(await client.closed, { code: 1001, reason: 'server shutting down' });
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});

test('close() cuts clients that do not finish the close handshake within shutdownTimeoutMs', { timeout: 10_000 }, async (t) => {
  const server = createServer({ port: 0, logLevel: 'silent', store: 'memory', closeLingerMs: 0, shutdownTimeoutMs: 200 });
  const { port } = await server.listen();
  const client = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo`);
  // A client whose process hangs: it reads nothing, so it never answers the close frame.
  // Without the cut, close() would wait for ws's own 30 s close timeout (and this test would time out).
  client.socket.pause();
  await server.close();
  client.socket.resume();
  await client.closed;
});

test('a client that does not answer the close frame is cut soon after, well within shutdownTimeoutMs, and the log says so', { timeout: 20_000 }, async (t) => {
  const { logger, lines } = capturedLogger();
  // shutdownTimeoutMs is far beyond this test's timeout: close() must finish without reaching it.
  const server = createServer({ port: 0, logger, store: 'memory', closeLingerMs: 10, shutdownTimeoutMs: 60_000 });
  const { port } = await server.listen();
  const silent = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo`);
  const polite = await TestClient.connect(t, `ws://127.0.0.1:${port}/channel/lobby`);
  // Like .NET's ClientWebSocket, this one never answers the close frame (here: it reads nothing).
  silent.socket.pause();
  await server.close();
  silent.socket.resume();
  const gone = lines.filter((line) => line.msg === 'disconnected');
  const about = (path: string) => gone.find((line) => line.path === path);
  assert.deepEqual(
    [about('/echo')?.code, about('/echo')?.reason, about('/echo')?.closedBy, about('/echo')?.clientAnsweredClose],
    [1001, 'server shutting down', 'server', false],
  );
  assert.deepEqual([about('/channel/lobby')?.code, about('/channel/lobby')?.closedBy, about('/channel/lobby')?.clientAnsweredClose], [1001, 'server', true]);
  assert.ok(!lines.some((line) => String(line.msg).startsWith('shutdown timed out')));
  assert.equal((await polite.closed).code, 1001);
});
