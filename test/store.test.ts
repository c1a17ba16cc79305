/** One suite for every Store driver: memory, SQLite, and PostgreSQL. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import { QuotaError, type StoreQuota } from '../src/store/quota.js';
import { NotANumberError, type Store } from '../src/store/store.js';
import { POSTGRES_URL, privateSchema, skipUnless } from './services.js';

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

    /** A store of its own (for PostgreSQL, a schema of its own): the total counts nothing of other tests. */
    const ownStore = async (t: TestContext, quota: StoreQuota): Promise<{ open: () => Promise<Store> }> => {
      let where = setting();
      if (driver === 'sqlite') where = `sqlite:${tempDb()}`;
      if (driver === 'postgres') where = (await privateSchema(t)).url;
      return { open: () => openStore(where, quota) };
    };

    test('quota: keys per namespace; changing or deleting keys always works', async (t) => {
      const store = await (await ownStore(t, { maxKeysPerNamespace: 3, maxBytes: 1_000_000 })).open();
      t.after(() => store.close());
      for (const key of ['a', 'b', 'c']) await store.set(ns, key, '1');
      await assert.rejects(store.set(ns, 'd', '1'), (error: Error) => error instanceof QuotaError && /holds 3 keys.*maxKeysPerNamespace/.test(error.message));
      await assert.rejects(store.incr(ns, 'd', 1), QuotaError);
      assert.equal(await store.get(ns, 'd'), undefined, 'nothing of the refused write is kept');
      await store.set(ns, 'a', 'changed');
      assert.equal(await store.incr(ns, 'b', 1), 2);
      await store.set(`${ns}-other`, 'd', '1');
      assert.equal(await store.delete(ns, 'c'), true);
      await store.set(ns, 'd', '1');
      assert.deepEqual(await store.keys(ns, '', 10), ['a', 'b', 'd']);
    });

    test('quota: bytes over all namespaces, counted again when the store reopens', async (t) => {
      const place = await ownStore(t, { maxKeysPerNamespace: 100, maxBytes: 1_000 });
      const store = await place.open();
      const big = 'x'.repeat(400);
      await store.set('n1', 'k1', big);
      await store.set('n2', 'k2', big);
      await assert.rejects(store.set('n3', 'k3', big), (error: Error) => error instanceof QuotaError && /store is full.*maxStoreBytes/.test(error.message));
      await assert.rejects(store.set('n1', 'k1', `${big}${big}`), QuotaError, 'growing a key counts too');
      assert.equal(await store.get('n1', 'k1'), big);
      await store.set('n1', 'k1', 'small');
      await store.set('n3', 'k3', big);
      if (driver === 'memory') return store.close();
      await store.close();
      const reopened = await place.open();
      t.after(() => reopened.close());
      await assert.rejects(reopened.set('n4', 'k4', big), QuotaError, 'what was stored is counted after reopening');
      assert.equal(await reopened.delete('n2', 'k2'), true);
      await reopened.set('n4', 'k4', big);
    });

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

