import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

test('a binary frame gets a text error and the connection stays up', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/echo'));
  client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal(await client.next(), 'error|binary|this server takes text messages only; the binary message was ignored');
  client.send('text still works');
  assert.equal(await client.next(), 'text still works');
});

test('a binary frame in a channel is not relayed', async (t) => {
  const { ws } = await startServer(t);
  const sender = await TestClient.connect(t, ws('/channel/c'));
  const receiver = await TestClient.connect(t, ws('/channel/c'));
  sender.socket.send(Buffer.from('binary'), { binary: true });
  assert.match(await sender.next(), /^error\|binary\|/);
  sender.send('text');
  assert.equal(await receiver.next(), 'text');
});

test('invalid UTF-8 in a text frame closes with 1007', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/echo'));
  client.socket.send(Buffer.from([0x68, 0xc3, 0x28]), { binary: false });
  assert.equal((await client.closed).code, 1007);
});

test('a message over maxMessageBytes gets a text error, then a 1009 close after the linger', async (t) => {
  const closeLingerMs = 150;
  const { ws } = await startServer(t, { maxMessageBytes: 1024, closeLingerMs });
  const client = await TestClient.connect(t, ws('/echo'));
  client.send('x'.repeat(1024));
  assert.equal((await client.next()).length, 1024, 'a message of exactly the limit is fine');
  client.send('x'.repeat(1025));
  const error = await client.next();
  const errorAt = performance.now();
  assert.equal(error, "error|size|a message of 1025 bytes is over this server's limit of 1024 bytes; closing");
  const { code } = await client.closed;
  assert.equal(code, 1009);
  // The final message must reach a Resonite client before the close frame: the server waits.
  assert.ok(performance.now() - errorAt >= closeLingerMs - 15, 'close frame came before the linger elapsed');
});

test('a message far over the limit is cut off by the transport with 1009', async (t) => {
  const { ws } = await startServer(t, { maxMessageBytes: 1024 });
  const client = await TestClient.connect(t, ws('/echo'));
  client.send('x'.repeat(1024 * 4 + 1));
  assert.equal((await client.closed).code, 1009);
});

test('messages received while the server is closing a connection are ignored, not answered', async (t) => {
  const { ws } = await startServer(t, { maxMessageBytes: 1024, closeLingerMs: 200 });
  const client = await TestClient.connect(t, ws('/echo'));
  client.send('x'.repeat(2000));
  assert.match(await client.next(), /^error\|size\|/);
  client.send('after the error');
  await once(client.socket, 'close');
  assert.deepEqual(client.pending, []);
});
