import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClientUrlError, createResoniteClient, createServer, type ClientEvent } from '../src/index.js';
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
  // The idle timeout is ten ping intervals, so a loaded machine's stalls cannot fake an idle connection.
  const { ws } = await startServer(t, { pingIntervalMs: 50 });
  const pings = counter('ping', 24);
  const client = createResoniteClient(ws('/echo'), { idleTimeoutMs: 500, onEvent: pings.onEvent });
  t.after(() => client.close());
  await pings.done; // 24 pings 50 ms apart span over two idle timeouts
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
  // `wait 50` holds the next line back at least 50 ms (a lower bound: a loaded machine only makes it longer).
  const sentAt = (text: string) => {
    const [, h, m, sec] = new RegExp(`^(\\d\\d):(\\d\\d):(\\d\\d\\.\\d{3}) > ${text}$`, 'm').exec(scripted.stdout) ?? [];
    return (Number(h) * 60 + Number(m)) * 60_000 + Number(sec) * 1000;
  };
  assert.match(scripted.stdout, /> first[\s\S]*> second/);
  assert.ok((sentAt('second') - sentAt('first') + 86_400_000) % 86_400_000 >= 50, scripted.stdout);

  const down = await runCli(['client', `ws://127.0.0.1:${await closedPort()}/echo`, '--send', 'x']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /Could not connect to (ws:\/\/\S+): .*\. To check it step by step, run: npm run doctor -- \1\n/);

  const badRegex = await runCli(['client', ws('/echo'), '--expect', '(']);
  assert.equal(badRegex.code, 2);
  assert.match(badRegex.stderr, /--expect is not a valid regular expression/);
});

test('like Resonite, the client refuses http:// and URLs without a scheme, and names the ws:// URL to use', async (t) => {
  const { http, port } = await startServer(t);
  assert.throws(() => createResoniteClient(http('/echo')), (error: Error) => {
    assert.ok(error instanceof ClientUrlError);
    assert.match(error.message, /^Only Uris starting with 'ws:\/\/' or 'wss:\/\/' are supported/);
    assert.match(error.message, new RegExp(`Use ws://127\\.0\\.0\\.1:${port}/echo$`));
    return true;
  });
  assert.throws(() => createResoniteClient('https://example.com/echo'), /Use wss:\/\/example\.com\/echo$/);
  assert.throws(() => createResoniteClient(`localhost:${port}/echo`), new RegExp(`Use ws://localhost:${port}/echo$`));
  assert.throws(() => createResoniteClient('ftp://example.com/'), /Write the URL with ws:\/\//);

  const cli = await runCli(['client', http('/echo'), '--expect', 'hi']);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, new RegExp(`Only Uris starting with 'ws://' or 'wss://' are supported.*Use ws://127\\.0\\.0\\.1:${port}/echo`));
  assert.equal(cli.stdout, '', 'nothing was connected');
});

test('a refused handshake shows the server\'s explanation, not just the status', async (t) => {
  const { ws } = await startServer(t);
  const errors: string[] = [];
  const client = createResoniteClient(ws('/nope'), { onEvent: (event) => event.type === 'error' && errors.push(event.message) });
  t.after(() => client.close());
  await assert.rejects(client.opened(), /the server refused the connection with HTTP 404: There is no WebSocket endpoint at \/nope/);
  assert.equal(errors.length, 1, `one error, with the reason: ${errors.join(' / ')}`);

  const cli = await runCli(['client', ws('/nope'), '--send', 'x']);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /error: the server refused the connection with HTTP 404: There is no WebSocket endpoint at \/nope/);
  assert.doesNotMatch(cli.stdout + cli.stderr, /Unexpected server response/);
  assert.match(cli.stderr, /Could not connect to .*HTTP 404.* run: npm run doctor -- /);
});
