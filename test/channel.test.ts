import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

test('a channel relays each message unchanged to the other members, not back to the sender', async (t) => {
  const { ws } = await startServer(t);
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => TestClient.connect(t, ws('/channel/lobby'))));
  assert.ok(a && b && c);
  a.send('hello from a|with a bar');
  assert.equal(await b.next(), 'hello from a|with a bar');
  assert.equal(await c.next(), 'hello from a|with a bar');
  // Delivery is in order, so if a had received its own message it would come before this one.
  b.send('from b');
  assert.equal(await a.next(), 'from b');
  assert.equal(await c.next(), 'from b');
  assert.deepEqual(a.pending, []);
});

test('echo=1 also sends the sender its own messages', async (t) => {
  const { ws } = await startServer(t);
  const a = await TestClient.connect(t, ws('/channel/lobby?echo=1'));
  const b = await TestClient.connect(t, ws('/channel/lobby'));
  a.send('one');
  assert.equal(await a.next(), 'one');
  assert.equal(await b.next(), 'one');
});

test('channels are separate', async (t) => {
  const { ws } = await startServer(t);
  const red = await TestClient.connect(t, ws('/channel/red'));
  const blue = await TestClient.connect(t, ws('/channel/blue?echo=1'));
  const red2 = await TestClient.connect(t, ws('/channel/red'));
  blue.send('blue only');
  assert.equal(await blue.next(), 'blue only');
  red2.send('red only');
  assert.equal(await red.next(), 'red only');
  assert.deepEqual(blue.pending, []);
});

test('history=N replays the channel\'s last N messages on join, then live ones', async (t) => {
  const { ws } = await startServer(t);
  const a = await TestClient.connect(t, ws('/channel/log?echo=1'));
  for (const text of ['m1', 'm2', 'm3']) {
    a.send(text);
    assert.equal(await a.next(), text);
  }
  const b = await TestClient.connect(t, ws('/channel/log?history=2'));
  assert.equal(await b.next(), 'm2');
  assert.equal(await b.next(), 'm3');
  a.send('m4');
  assert.equal(await b.next(), 'm4');
});

test('history outlives the members, and a request over maxHistory is capped with a notice', async (t) => {
  const { ws } = await startServer(t, { maxHistory: 2 });
  const a = await TestClient.connect(t, ws('/channel/log?echo=1'));
  for (const text of ['m1', 'm2', 'm3']) {
    a.send(text);
    assert.equal(await a.next(), text);
  }
  a.socket.close();
  await a.closed;
  const b = await TestClient.connect(t, ws('/channel/log?history=50'));
  assert.equal(await b.next(), 'error|query|history is limited to 2 on this server; using 2 (got "50")');
  assert.equal(await b.next(), 'm2');
  assert.equal(await b.next(), 'm3');
});

test('presence=1 sends joined and left notices with display names', async (t) => {
  const { ws } = await startServer(t);
  const watcher = await TestClient.connect(t, ws('/channel/lobby?presence=1&name=Alice'));
  const quiet = await TestClient.connect(t, ws('/channel/lobby'));
  assert.match(await watcher.next(), /^joined\|lobby\|guest-[0-9a-f]{6}$/);
  const bob = await TestClient.connect(t, ws('/channel/lobby?name=Bob%20the%20Builder'));
  assert.equal(await watcher.next(), 'joined|lobby|Bob the Builder');
  bob.socket.close();
  assert.equal(await watcher.next(), 'left|lobby|Bob the Builder');
  // Without presence=1 there are no notices: the next thing `quiet` gets is a message.
  watcher.send('hi');
  assert.equal(await quiet.next(), 'hi');
});

test('a display name with the separator is percent-escaped in notices', async (t) => {
  const { ws } = await startServer(t);
  const watcher = await TestClient.connect(t, ws('/channel/lobby?presence=1'));
  await TestClient.connect(t, ws(`/channel/lobby?name=${encodeURIComponent('A|B 100%')}`));
  assert.equal(await watcher.next(), 'joined|lobby|A%7CB 100%25');
});

test('bad query values get an error on connect and the default is used', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/channel/lobby?echo=maybe&history=-1'));
  assert.equal(await client.next(), 'error|query|echo must be 1/0, true/false, yes/no or on/off (got "maybe")');
  assert.equal(await client.next(), 'error|query|history must be a whole number from 0 to 100 (got "-1")');
  client.send('no echo');
  const other = await TestClient.connect(t, ws('/channel/lobby?echo'));
  other.send('echo on');
  assert.equal(await other.next(), 'echo on');
  assert.equal(await client.next(), 'echo on');
});

test('a bad channel name is refused at the handshake with 400 and a reason', async (t) => {
  const { ws } = await startServer(t);
  for (const path of ['/channel/has%20space', '/channel/a/b', `/channel/${'x'.repeat(65)}`]) {
    const { status, body } = await refusedHandshake(ws(path));
    assert.equal(status, 400, path);
    assert.match(body, /is not a valid channel name\. A channel name is 1 to 64 letters, digits/);
  }
  const missing = await refusedHandshake(ws('/channel/'));
  assert.equal(missing.status, 400);
  assert.match(missing.body, /channel name is missing: connect to \/channel\/<name>/);
});

test('an unknown path is refused at the handshake with 404 and the list of endpoints', async (t) => {
  const { ws } = await startServer(t);
  const { status, body } = await refusedHandshake(ws('/chanel/lobby'));
  assert.equal(status, 404);
  assert.match(body, /no WebSocket endpoint at \/chanel\/lobby\. This server has: \/echo, \/channel\/<name>/);
});
