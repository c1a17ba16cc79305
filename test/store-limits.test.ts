/**
 * What clients are told about the store's limits, over the wire, with every
 * driver the tests cover: the quota (issue 14 §6) in an `error|set|…` that
 * says what to do, keys and values a store cannot keep refused before any
 * driver sees them, and a driver's own error text never reaching a client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startServer, TestClient } from './helpers.js';
import { POSTGRES_URL, privateSchema, skipUnless } from './services.js';

const drivers: [string, () => string, string | false][] = [
  ['memory', () => 'memory', false],
  ['sqlite', () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'resobridge-limits-')), 'kv.db')}`, false],
  ['postgres', () => POSTGRES_URL, await skipUnless('PostgreSQL', 5432)],
];

for (const [driver, store, skip] of drivers) {
  describe(`${driver} store, over the wire`, { skip }, () => {
    test('a new key past maxKeysPerNamespace answers error|set|… with what to do; changing a key still works', async (t) => {
      const { ws } = await startServer(t, { store: store(), maxKeysPerNamespace: 2 });
      const client = await TestClient.connect(t, ws(`/api?ns=q${randomUUID().slice(0, 8)}`));
      assert.equal(await client.ask('set|a|1'), 'ok|set|a');
      assert.equal(await client.ask('set|b|1'), 'ok|set|b');
      assert.match(await client.ask('set|c|1'), /^error\|set\|the namespace "q\w+" holds 2 keys.*delete keys you no longer need.*maxKeysPerNamespace$/);
      assert.match(await client.ask('incr|c'), /^error\|incr\|.*maxKeysPerNamespace$/);
      assert.equal(await client.ask('set|a|2'), 'ok|set|a');
      assert.equal(await client.ask('del|b'), 'ok|del|b');
      assert.equal(await client.ask('set|c|1'), 'ok|set|c');
    });

    test('NUL in a key or a value is refused with a clear error before the store sees it', async (t) => {
      const { ws } = await startServer(t, { store: store() });
      const client = await TestClient.connect(t, ws(`/api?ns=n${randomUUID().slice(0, 8)}`));
      // A NUL is a control character: the key rule (names.ts) says so first, naming it.
      assert.equal(
        await client.ask('set|a%00b|x'),
        'error|set|the key "a\\u0000b" contains a NUL character (U+0000): remove it (keys may not start or end with whitespace, nor contain control characters)',
      );
      assert.match(await client.ask('set|k|x%00y'), /^error\|set\|the value contains a NUL character/);
      assert.match(await client.ask('get|a%00b'), /^error\|get\|the key "a\\u0000b" contains a NUL character/);
      assert.match(await client.ask('{"verb":"set","key":"k\\ud800","value":"v"}'), /^error\|set\|the key contains a lone UTF-16 surrogate/);
      assert.match(await client.ask('{"verb":"set","key":"k","value":"\\ud800"}'), /^error\|set\|the value contains a lone UTF-16 surrogate/);
      assert.equal(await client.ask('set|k|fine'), 'ok|set|k', 'the connection and the store go on');
    });
  });
}

test('the store bytes quota over the wire: error|set|… says the store is full and what to do', async (t) => {
  const { ws } = await startServer(t, { maxStoreBytes: 2_048 });
  const client = await TestClient.connect(t, ws('/api'));
  assert.equal(await client.ask(`set|a|${'x'.repeat(1_500)}`), 'ok|set|a');
  assert.equal(
    await client.ask(`set|b|${'x'.repeat(1_000)}`),
    'error|set|the store is full (2048 bytes over all namespaces); delete keys you no longer need (del), or ask the server\'s operator to raise maxStoreBytes',
  );
});

test('a PostgreSQL error reaches the log, not the client: the client gets a generic storage failure', { skip: await skipUnless('PostgreSQL', 5432) }, async (t) => {
  const { url, admin, schema } = await privateSchema(t);
  const { ws } = await startServer(t, { store: url });
  const client = await TestClient.connect(t, ws('/api'));
  assert.equal(await client.ask('set|k|1'), 'ok|set|k');
  // The table goes away under the server: every query now fails with the driver's text (naming the relation).
  await admin.query(`DROP TABLE ${schema}.resobridge_kv`);
  for (const command of ['get|k', 'set|k|2', 'incr|k', 'del|k', 'keys']) {
    const reply = await client.ask(command);
    assert.match(reply, /^error\|\w+\|storage failed; try again in a moment \(the server has logged why\)$/, reply);
    assert.doesNotMatch(reply, /relation|resobridge_kv/);
  }
});

test('client input quoted in errors is clipped: a 15 KB ?name=, a long unknown verb', async (t) => {
  const { ws, http } = await startServer(t);
  const long = 'n'.repeat(15_000);
  const named = await TestClient.connect(t, ws(`/api?name=${long}`));
  const notice = await named.next();
  assert.match(notice, /^error\|query\|name must be 1 to 64 characters; using a generated name \(got "n{64}…"\)$/);
  const reply = await named.ask(`${'v'.repeat(10_000)}|x`);
  assert.ok(reply.length < 300, `the reply is ${reply.length} characters`);
  assert.match(reply, /^error\|v{64}…\|unknown command "v{64}…"/);
  const response = await fetch(http(`/publish/${'c'.repeat(5_000)}!`), { method: 'POST', body: 'x' });
  assert.ok((await response.text()).length < 400);
});

test('over HTTP, PUT /kv past the quota answers 507 with what to do', async (t) => {
  const { http } = await startServer(t, { maxKeysPerNamespace: 1 });
  assert.equal((await fetch(http('/kv/a'), { method: 'PUT', body: '1' })).status, 200);
  const refused = await fetch(http('/kv/b'), { method: 'PUT', body: '1' });
  assert.equal(refused.status, 507);
  assert.match(((await refused.json()) as { error: string }).error, /maxKeysPerNamespace/);
});
