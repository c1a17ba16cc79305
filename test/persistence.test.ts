import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCli, spawnCli, TestClient, waitForOutput } from './helpers.js';

async function serve(t: TestContext, store: string) {
  const child = spawnCli(['serve', '--port', '0', '--store', store]);
  t.after(() => child.kill('SIGKILL'));
  const { match } = await waitForOutput(child, /ws:\/\/localhost:(\d+)\/api/);
  const client = await TestClient.connect(t, `ws://127.0.0.1:${match[1]}/api?ns=persist`);
  return { child, client };
}

test('with SQLite, a value survives kill -9 right after the client got its ok', async (t) => {
  const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'resobridge-persist-')), 'kv.db')}`;
  const first = await serve(t, store);
  first.client.send('set|score|42');
  assert.equal(await first.client.next(), 'ok|set|score');
  first.client.send('incr|visits|3');
  assert.equal(await first.client.next(), 'value|visits|3');
  const exited = once(first.child, 'exit');
  first.child.kill('SIGKILL');
  await exited;

  const second = await serve(t, store);
  second.client.send('get|score');
  assert.equal(await second.client.next(), 'value|score|42');
  second.client.send('incr|visits');
  assert.equal(await second.client.next(), 'value|visits|4');
});

test('a store that cannot be opened stops serve with exit 1 and a hint', async () => {
  const { code, stderr } = await runCli(['serve', '--port', '0', '--store', 'postgres://nobody@127.0.0.1:1/none']);
  assert.equal(code, 1);
  assert.match(stderr, /^resobridge: Cannot open the store "postgres:\/\/nobody@127\.0\.0\.1:1\/none": .*Check that PostgreSQL runs/);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});
