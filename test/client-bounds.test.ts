/**
 * Bounds on what one client can make the server hold (issue 14 §2): keys
 * watched, and lines waiting for an exec program that does not read them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_WATCHES_PER_CLIENT } from '../src/app/client.js';
import { MAX_STDIN_BYTES } from '../src/bridges/spawn-program.js';
import { startServer, TestClient } from './helpers.js';

test('one connection may watch up to MAX_WATCHES_PER_CLIENT keys; the next is refused until it unwatches one', { timeout: 60_000 }, async (t) => {
  const { ws } = await startServer(t, { inboundRate: 0, addressInboundRate: 0, maxOutboundRate: 0 });
  const client = await TestClient.connect(t, ws('/api?rate=0'));
  // In batches: at most 256 commands may wait per connection.
  for (let start = 0; start < MAX_WATCHES_PER_CLIENT; start += 200) {
    const batch = Array.from({ length: Math.min(200, MAX_WATCHES_PER_CLIENT - start) }, (_, i) => start + i);
    for (const i of batch) client.send(`watch|k${i}`);
    for (const i of batch) assert.equal(await client.next(), `missing|k${i}`);
  }
  assert.equal(await client.ask('watch|one-more'), `error|watch|you watch ${MAX_WATCHES_PER_CLIENT} keys already, the most one connection may watch; unwatch one first`);
  assert.equal(await client.ask('watch|k0'), 'missing|k0', 'watching a key it watches already is fine');
  assert.equal(await client.ask('unwatch|k0'), 'ok|unwatch|k0');
  assert.equal(await client.ask('watch|one-more'), 'missing|one-more');
});

test('an exec program that does not read: past MAX_STDIN_BYTES waiting, messages for it are dropped with an error', { timeout: 60_000 }, async (t) => {
  const deaf = `"${process.execPath}" "${fileURLToPath(new URL('./programs/deaf.mjs', import.meta.url))}"`;
  const { ws } = await startServer(t, { exec: `/deaf=${deaf}`, inboundBytesRate: 0, inboundRate: 0, addressInboundRate: 0 });
  const client = await TestClient.connect(t, ws('/deaf'));
  const line = 'x'.repeat(60_000);
  // The pipe itself takes some (64 KiB on Linux) before anything waits in the server.
  const sent = Math.ceil((MAX_STDIN_BYTES + 256 * 1024) / line.length) + 5;
  for (let i = 0; i < sent; i++) client.send(line);
  assert.match(await client.next(), /^error\|exec\|the program is not reading its input \(over 1048576 bytes wait for it\); this message was dropped$/);
});
