/**
 * The server through .NET's ClientWebSocket, the client library Resonite's
 * WebsocketClient uses (Mono's build of it; see test/dotnet.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { createResoniteClient } from '../src/index.js';
import { DotnetClient, skipUnlessMono } from './dotnet.js';
import { spawnCli, startServer, TestClient, waitForOutput } from './helpers.js';

const skip = skipUnlessMono();

test('echo: text comes back unchanged, and a close the client starts is answered', { skip }, async (t) => {
  const { ws } = await startServer(t);
  const client = await DotnetClient.connect(t, ws('/echo'));
  assert.equal(await client.state(), 'Open');
  for (const text of ['hello', 'a|b%7C c', 'two\nlines', 'héllo ✓ 世界', '']) {
    await client.send(text);
    assert.equal(await client.next(), text);
  }
  await client.close(1000, 'bye');
  // The server answers with the client's own code and reason.
  assert.deepEqual(await client.receive(), { type: 'close', code: 1000, reason: 'bye' });
});

test('Resonite\'s client refuses http:// URLs, and our client says the same', { skip }, async (t) => {
  const { http } = await startServer(t);
  const client = DotnetClient.start(t);
  const dotnet = await client.tryConnect(http('/echo'));
  const sentence = /^error (Only Uris starting with 'ws:\/\/' or 'wss:\/\/' are supported)/.exec(dotnet)?.[1];
  assert.ok(sentence, `.NET said: ${dotnet}`);
  assert.throws(() => createResoniteClient(http('/echo')), (error: Error) => error.message.startsWith(sentence));
});

test('relay: two .NET clients and a ws client share a channel', { skip }, async (t) => {
  const { ws } = await startServer(t);
  const alice = await DotnetClient.connect(t, ws('/channel/lobby'));
  const bob = await DotnetClient.connect(t, ws('/channel/lobby'));
  const app = await TestClient.connect(t, ws('/channel/lobby'));
  await alice.send('hi from alice');
  assert.equal(await bob.next(), 'hi from alice');
  assert.equal(await app.next(), 'hi from alice');
  app.send('hi from the app');
  assert.equal(await alice.next(), 'hi from the app');
  assert.equal(await bob.next(), 'hi from the app');
  // Relay members do not get their own messages back.
  assert.deepEqual(await alice.receive(200), { type: 'timeout' });
});

test('command mode: set, get, watch and errors', { skip }, async (t) => {
  const { ws } = await startServer(t);
  const world = await DotnetClient.connect(t, ws('/api?ns=dotnet'));
  const other = await DotnetClient.connect(t, ws('/api?ns=dotnet'));
  await world.send('get|score');
  assert.equal(await world.next(), 'missing|score');
  await world.send('set|score|42');
  assert.equal(await world.next(), 'ok|set|score');
  await world.send('get#1|score');
  assert.equal(await world.next(), 'value#1|score|42');
  await world.send('watch|score');
  assert.equal(await world.next(), 'value|score|42');
  await other.send('set|score|43');
  assert.equal(await other.next(), 'ok|set|score');
  assert.equal(await world.next(), 'value|score|43');
  await world.send('fly|away');
  assert.match(await world.next(), /^error\|fly\|/);
});

test('shutdown: the .NET client gets the news and 1001; it never answers the close, and the server does not wait it out', { skip, timeout: 30_000 }, async (t) => {
  // shutdownTimeoutMs is far beyond this test's timeout: the server must finish without reaching it.
  const child = spawnCli(['serve', '--port', '0'], {
    RESOBRIDGE_LOG_FORMAT: 'json',
    RESOBRIDGE_CLOSE_LINGER_MS: '10',
    RESOBRIDGE_SHUTDOWN_TIMEOUT_MS: '60000',
  });
  t.after(() => child.kill('SIGKILL'));
  const { output, match } = await waitForOutput(child, /ws:\/\/localhost:(\d+)\/echo/);
  let log = output;
  child.stdout.on('data', (chunk) => (log += String(chunk)));
  const client = await DotnetClient.connect(t, `ws://127.0.0.1:${match[1]}/echo`);
  await client.send('hello');
  assert.equal(await client.next(), 'hello');

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  assert.equal(await client.next(), 'server|shutting down');
  assert.deepEqual(await client.receive(), { type: 'close', code: 1001, reason: 'server shutting down' });
  // Like Resonite, the client reports the close and does not answer it.
  assert.equal(await client.state(), 'CloseReceived');
  assert.deepEqual(await exited, [0, null]);

  const records = log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const gone = records.find((record) => record.msg === 'disconnected');
  assert.ok(gone, `no "disconnected" line in the log:\n${log}`);
  assert.equal(gone.code, 1001, 'logged with the code the server sent, not 1006');
  assert.equal(gone.reason, 'server shutting down');
  assert.equal(gone.closedBy, 'server');
  assert.equal(gone.clientAnsweredClose, false);
  assert.ok(!records.some((record) => String(record.msg).startsWith('shutdown timed out')), 'the shutdown did not need its timeout');
  assert.equal(records.at(-1)?.msg, 'stopped');
});

test('keepalive: ClientWebSocket answers the server\'s pings and stays open while clients that do not are dropped', { skip, timeout: 30_000 }, async (t) => {
  const maxMissedPongs = 3;
  const { ws } = await startServer(t, { pingIntervalMs: 200, maxMissedPongs });
  const client = await DotnetClient.connect(t, ws('/echo'));
  // Each control client misses every ping and is dropped after maxMissedPongs + 1 rounds of pings.
  // The .NET client, connected first, is pinged in every one of those rounds.
  for (let round = 0; round < 2; round++) {
    const control = await TestClient.connect(t, ws('/echo'), { autoPong: false });
    await control.closed;
    assert.equal(control.pings, maxMissedPongs);
    assert.equal(await client.state(), 'Open');
  }
  await client.send('still here');
  assert.equal(await client.next(), 'still here');
});
