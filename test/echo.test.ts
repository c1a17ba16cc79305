import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

test('/echo sends each text message back unchanged', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/echo'));
  for (const text of ['hello', 'value|score|42', 'ünïcødé ✓ 🎉', '']) {
    client.send(text);
    assert.equal(await client.next(), text);
  }
});

test('/echo/ with a trailing slash works like /echo', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/echo/'));
  client.send('hi');
  assert.equal(await client.next(), 'hi');
});

test('an unknown query option gets a text error on connect, and the connection stays usable', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/echo?colour=red'));
  assert.match(await client.next(), /^error\|query\|unknown option "colour"; this endpoint understands name/);
  client.send('still here');
  assert.equal(await client.next(), 'still here');
});
