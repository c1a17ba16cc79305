import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createResoniteClient, createServer, type ClientEvent } from '../src/index.js';
import { binaryWebSocket, closedPort, quietWebSocket } from './fixtures.js';
import { runCli, startServer } from './helpers.js';

test('createResoniteClient: send and receive text, in order', async (t) => {
  const { ws } = await startServer(t);
  const client = createResoniteClient(ws('/echo'));
  t.after(() => client.close());
  await client.opened();
  client.send('one');
  client.send('two');
  assert.equal(await client.next(), 'one');
  assert.equal(await client.next(), 'two');
  assert.throws(() => client.send(Buffer.from('x') as unknown as string), /Resonite can only send text messages/);
});

test('it drops the connection after the idle timeout with no traffic, as Resonite does', async (t) => {
  const port = await quietWebSocket(t);
  const events: ClientEvent['type'][] = [];
  const client = createResoniteClient(`ws://127.0.0.1:${port}/`, { idleTimeoutMs: 150, onEvent: (event) => events.push(event.type) });
  t.after(() => client.close());
  await client.opened();
  const { code } = await client.disconnected();
  assert.equal(code, 1006);
  assert.deepEqual(events, ['connecting', 'open', 'idle', 'close']);
});

/** An onEvent that counts events of one type and resolves when there are `count` of them. */
function counter(type: ClientEvent['type'], count: number) {
  let seen = 0;
  let reached: () => void = () => {};
  const done = new Promise<void>((resolve) => (reached = resolve));
  const events: ClientEvent['type'][] = [];
  return {
    events,
    done,
    onEvent: (event: ClientEvent) => {
      events.push(event.type);
      if (event.type === type && ++seen === count) reached();
    },
  };
}

test('server pings keep it connected past the idle timeout', async (t) => {
  const { ws } = await startServer(t, { pingIntervalMs: 50 });
  const pings = counter('ping', 8);
  const client = createResoniteClient(ws('/echo'), { idleTimeoutMs: 150, onEvent: pings.onEvent });
  t.after(() => client.close());
  await pings.done; // eight pings 50 ms apart span well over two idle timeouts
  assert.ok(!pings.events.includes('idle'));
  assert.equal(client.connected, true);
  client.send('still here');
  assert.equal(await client.next(), 'still here');
});

test('it retries every retrySeconds until the server is up, like ConnectRetryInterval', async (t) => {
  const port = await closedPort();
  const retries = counter('retry', 2);
  const client = createResoniteClient(`ws://127.0.0.1:${port}/echo`, { retrySeconds: 0.05, onEvent: retries.onEvent });
  t.after(() => client.close());
  await retries.done;
  const server = createServer({ port, logLevel: 'silent', store: 'memory' });
  await server.listen();
  t.after(() => server.close());
  await client.opened();
  client.send('hello');
  assert.equal(await client.next(), 'hello');
});

test('a binary frame from the server is reported, not delivered as text', async (t) => {
  const port = await binaryWebSocket(t);
  const events: ClientEvent[] = [];
  const client = createResoniteClient(`ws://127.0.0.1:${port}/`, { onEvent: (event) => events.push(event) });
  t.after(() => client.close());
  await client.opened();
  client.send('x');
  await client.next(300).catch(() => undefined);
  assert.ok(client.binaryFrames >= 1);
  assert.ok(events.some((event) => event.type === 'binary'));
  assert.ok(!events.some((event) => event.type === 'message'));
});

test('the client CLI: --send and --expect pass, a miss exits 1, --script waits, close codes are shown', async (t) => {
  const { ws } = await startServer(t);
  const ok = await runCli(['client', ws('/api'), '--send', 'set|score|42', '--send', 'get|score', '--expect', '^value\\|score\\|42$']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /> set\|score\|42\n.*< ok\|set\|score/s);
  assert.match(ok.stdout, /disconnected: code 1000 \(a world never sees the code or reason/);

  const miss = await runCli(['client', ws('/echo'), '--send', 'hello', '--expect', '^bye$', '--timeout', '0.3']);
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /No message matched \/\^bye\$\/ within 0\.3 s/);

  const script = join(mkdtempSync(join(tmpdir(), 'resobridge-script-')), 'script.txt');
  writeFileSync(script, 'first\nwait 50\nsecond\n');
  const scripted = await runCli(['client', ws('/echo'), '--script', script, '--expect', '^second$']);
  assert.equal(scripted.code, 0);
  assert.match(scripted.stdout, /< first[\s\S]*> second/);

  const down = await runCli(['client', `ws://127.0.0.1:${await closedPort()}/echo`, '--send', 'x']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /Could not connect to (ws:\/\/\S+)\. Run: npm run doctor -- \1\n/);

  const badRegex = await runCli(['client', ws('/echo'), '--expect', '(']);
  assert.equal(badRegex.code, 2);
  assert.match(badRegex.stderr, /--expect is not a valid regular expression/);
});
