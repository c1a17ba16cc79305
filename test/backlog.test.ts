/** A node that was paused (SIGSTOP) reads what its clients sent meanwhile at the allowed rate: nothing is dropped. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnCli, TestClient, waitForOutput } from './helpers.js';

test('after SIGSTOP/SIGCONT, a backlog over the inbound burst is read in full, at the allowed rate', { skip: process.platform === 'win32' && 'no SIGSTOP on Windows', timeout: 60_000 }, async (t) => {
  const child = spawnCli(['serve', '--port', '0', '--outbound-rate', '0', '--max-outbound-rate', '0', '--close-linger-ms', '20']);
  t.after(() => child.kill('SIGKILL'));
  const { match } = await waitForOutput(child, /ws:\/\/localhost:(\d+)\/echo/);
  const client = await TestClient.connect(t, `ws://127.0.0.1:${match[1]}/echo?rate=0`);
  assert.equal(await client.ask('before'), 'before');
  child.kill('SIGSTOP');
  // 300 messages: over the default burst (twice the inbound rate of 100), all arriving at once when the node resumes.
  for (let i = 0; i < 300; i++) client.send(`m${i}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGCONT');
  const echoed: string[] = [];
  for (let i = 0; i < 1_000 && echoed.length < 300; i++) {
    const text = await client.next();
    if (!text.startsWith('error|rate|')) echoed.push(text);
  }
  assert.deepEqual(echoed, Array.from({ length: 300 }, (_, i) => `m${i}`));
  assert.equal(client.socket.readyState, client.socket.OPEN);
});
