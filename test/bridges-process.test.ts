import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

const program = (name: string) => `"${process.execPath}" "${fileURLToPath(new URL(`./programs/${name}.mjs`, import.meta.url))}"`;

test('exec: one program per connection, lines both ways, with the connection in its environment', { timeout: 30_000 }, async (t) => {
  const { ws, http } = await startServer(t, { exec: `/count=${program('counter')}`, maxOutboundRate: 0 });
  const client = await TestClient.connect(t, ws('/count?name=Alice&color=red&rate=0'));
  assert.equal(await client.next(), 'hello|Alice|/count|red|127.0.0.1');
  assert.equal(await client.ask('first'), 'count|1|first');
  assert.equal(await client.ask('second line'), 'count|2|second line');
  const other = await TestClient.connect(t, ws('/count'));
  assert.match(await other.next(), /^hello\|guest-/);
  assert.equal(await other.ask('x'), 'count|1|x', 'its own program');
  const health = (await (await fetch(http('/healthz'))).json()) as { bridges: { name: string; type: string; state: string }[] };
  assert.deepEqual(health.bridges.map((b) => [b.type, b.name, b.state]), [['exec', '/count', 'running']]);
});

test('exec: stderr to the client when asked; program exit closes the connection with the reason', { timeout: 30_000 }, async (t) => {
  const { ws } = await startServer(t, {
    bridges: [
      { type: 'exec', path: '/count', command: program('counter'), stderr: 'client' },
      { type: 'exec', path: '/crash', command: program('crash'), stderr: 'log' },
      { type: 'exec', path: '/missing', command: 'no-such-program-here', stderr: 'log' },
    ],
    maxOutboundRate: 0,
  });
  const counter = await TestClient.connect(t, ws('/count?rate=0'));
  await counter.next();
  counter.send('one');
  const replies = [await counter.next(), await counter.next()].sort();
  assert.deepEqual(replies, ['count|1|one', 'stderr|counted 1']);

  const crash = await TestClient.connect(t, ws('/crash'));
  assert.equal(await crash.next(), 'bye');
  assert.equal(await crash.next(), 'server|the program failed (exit code 3)');
  assert.deepEqual(await crash.closed, { code: 1011, reason: 'the program failed (exit code 3)' });

  const missing = await TestClient.connect(t, ws('/missing'));
  assert.equal(await missing.next(), 'server|the program was not found');
  assert.equal((await missing.closed).code, 1011);
});

test('exec: a flooding program is paced, binary garbage and huge lines become text errors', { timeout: 30_000 }, async (t) => {
  const { ws } = await startServer(t, { exec: `/flood=${program('flood')}`, outboundRate: 200, outboundQueue: 50 });
  const client = await TestClient.connect(t, ws('/flood'));
  const received: string[] = [];
  const told = () => received.filter((text) => text.startsWith('dropped|')).reduce((sum, text) => sum + Number(text.split('|')[1]), 0);
  while (received.at(-1) !== 'done') received.push(await client.next());
  // Drops are told at most once a second: the last notice may come after the last line.
  while (received.filter((text) => text.startsWith('line ')).length + told() < 5_000) received.push(await client.next());
  const lines = received.filter((text) => text.startsWith('line '));
  const dropped = told();
  assert.equal(lines.length + dropped, 5_000, 'every line delivered or counted as dropped');
  assert.ok(received.includes('error|exec|the program wrote 4 bytes of binary data; only text lines are sent'), received.filter((r) => r.startsWith('error')).join('\n'));
  assert.ok(received.includes('error|exec|the program wrote a line over 65536 bytes; it was dropped'));
});

test('program (shared mode): channel messages in as <sender>|<text>, lines out to the channel or @one member', { timeout: 30_000 }, async (t) => {
  const { ws, server } = await startServer(t, { bridges: [{ type: 'program', channel: 'help', command: program('bot'), name: 'helper' }] });
  const alice = await TestClient.connect(t, ws('/channel/help?name=Alice'));
  const bob = await TestClient.connect(t, ws('/channel/help?name=Bob|B'));
  alice.send('hi there|friend');
  assert.equal(await alice.next(), 'you said hi there|friend', 'the private answer');
  assert.equal(await bob.next(), 'hi there|friend', 'bob sees alice\'s message');
  assert.equal(await bob.next(), 'Alice said hi there|friend', 'and the bot\'s public line');
  assert.equal(await alice.next(), 'Alice said hi there|friend');
  assert.deepEqual(server.bridges().map((b) => [b.type, b.name, b.state]), [['program', 'helper', 'running']]);
});

test('program: restarted with backoff when it dies, and the server keeps serving', { timeout: 30_000 }, async (t) => {
  const { ws, server } = await startServer(t, { bridges: [{ type: 'program', channel: 'help', command: program('bot'), name: 'helper' }] });
  const alice = await TestClient.connect(t, ws('/channel/help?name=Alice'));
  alice.send('die');
  while (server.bridges()[0]?.state !== 'retrying') await new Promise((resolve) => setImmediate(resolve));
  assert.match(server.bridges()[0]?.detail ?? '', /the program ended \(exit code 1\); starting it again in 1 s/);
  const echo = await TestClient.connect(t, ws('/echo'));
  assert.equal(await echo.ask('still serving'), 'still serving');
  while (server.bridges()[0]?.state !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
  alice.send('back?');
  assert.equal(await alice.next(), 'you said back?');
});
