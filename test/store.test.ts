/** One suite for every Store driver: memory, SQLite, and PostgreSQL. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import { NotANumberError, type Store } from '../src/store/store.js';
import { POSTGRES_URL, skipUnless } from './services.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'resobridge-store-')), 'test.db');

const drivers: [string, () => string, string | false][] = [
  ['memory', () => 'memory', false],
  ['sqlite', () => `sqlite:${tempDb()}`, false],
  ['postgres', () => POSTGRES_URL, await skipUnless('PostgreSQL', 5432)],
];

for (const [driver, setting, skip] of drivers) {
  describe(`${driver} store`, { skip }, () => {
    // A namespace of its own, so runs never see each other's keys in a shared database.
    const ns = `test-${randomUUID()}`;
    const withStore = (fn: (store: Store) => Promise<void>) => async () => {
      const store = await openStore(setting());
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

    test('get, set, overwrite and delete', withStore(async (store) => {
      assert.equal(await store.get(ns, 'a'), undefined);
      await store.set(ns, 'a', '1');
      assert.equal(await store.get(ns, 'a'), '1');
      await store.set(ns, 'a', 'ünïcødé | %');
      assert.equal(await store.get(ns, 'a'), 'ünïcødé | %');
      assert.equal(await store.delete(ns, 'a'), true);
      assert.equal(await store.delete(ns, 'a'), false);
      assert.equal(await store.get(ns, 'a'), undefined);
    }));

    test('namespaces are separate', withStore(async (store) => {
      await store.set(`${ns}-x`, 'k', 'x');
      await store.set(`${ns}-y`, 'k', 'y');
      assert.equal(await store.get(`${ns}-x`, 'k'), 'x');
      assert.equal(await store.get(`${ns}-y`, 'k'), 'y');
      assert.deepEqual(await store.keys(`${ns}-z`, '', 10), []);
    }));

    test('keys by prefix, in code-point order, limited', withStore(async (store) => {
      const space = `${ns}-keys`;
      for (const key of ['p.b', 'p.a', 'p.B', 'q', 'p_%']) await store.set(space, key, '1');
      assert.deepEqual(await store.keys(space, 'p.', 10), ['p.B', 'p.a', 'p.b']);
      assert.deepEqual(await store.keys(space, 'p', 2), ['p.B', 'p.a']);
      assert.deepEqual(await store.keys(space, 'p_', 10), ['p_%'], 'no LIKE wildcards');
      assert.deepEqual(await store.keys(space, '', 10), ['p.B', 'p.a', 'p.b', 'p_%', 'q']);
    }));

    test('incr: from 0, decimals, negatives; not a number is refused', withStore(async (store) => {
      assert.equal(await store.incr(ns, 'n', 1), 1);
      assert.equal(await store.incr(ns, 'n', 2.5), 3.5);
      assert.equal(await store.incr(ns, 'n', -4), -0.5);
      assert.equal(await store.get(ns, 'n'), '-0.5');
      await store.set(ns, 'word', 'abc');
      await assert.rejects(store.incr(ns, 'word', 1), NotANumberError);
      assert.equal(await store.get(ns, 'word'), 'abc');
    }));

    test('concurrent incr loses no update', withStore(async (store) => {
      await Promise.all(Array.from({ length: 40 }, () => store.incr(ns, 'hits', 1)));
      assert.equal(await store.get(ns, 'hits'), '40');
    }));

    test('values survive closing and reopening', async () => {
      const where = setting();
      if (where === 'memory') return;
      const first = await openStore(where);
      await first.set(ns, 'kept', 'yes');
      await first.close();
      const second = await openStore(where);
      assert.equal(await second.get(ns, 'kept'), 'yes');
      await second.close();
    });
  });
}

test('a store that cannot be opened says what to check', async () => {
  await assert.rejects(openStore('postgres://nobody@127.0.0.1:1/none'), /Cannot open the store "postgres:\/\/nobody@127\.0\.0\.1:1\/none": .*Check that PostgreSQL runs/);
  const file = tempDb();
  writeFileSync(file, '');
  // A path below a file: its folder can never be made.
  await assert.rejects(openStore(`sqlite:${file}/x.db`), /Cannot open the store "sqlite:.*\/x\.db": .*Check that the folder can be written/);
});
