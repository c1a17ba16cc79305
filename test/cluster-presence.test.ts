/** PresenceMirror: stored lists and live events may arrive in any order; every change is told once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelEvent } from '../src/hub/broker.js';
import { PresenceMirror } from '../src/hub/cluster-presence.js';

function mirror() {
  const told: string[] = [];
  const presence = new PresenceMirror((event: ChannelEvent) => told.push(event.type === 'message' ? event.text : `${event.type}|${event.name}`));
  presence.watch('c');
  const lists = () => presence.lists('c').map((list) => Object.fromEntries(list));
  return { presence, told, lists };
}

test('a live event older than what is known is neither applied nor told', () => {
  const { presence, told, lists } = mirror();
  presence.event('n1', { type: 'joined', channel: 'c', name: 'A' }, { s: 5, p: { A: 1, B: 1 } });
  presence.event('n1', { type: 'joined', channel: 'c', name: 'B' }, { s: 4, p: { B: 1 } });
  assert.deepEqual(told, ['joined|A']);
  assert.deepEqual(lists(), [{ A: 1, B: 1 }]);
});

test('the first read on subscribe fills in unknown nodes silently and never overrides a live event', () => {
  const { presence, told, lists } = mirror();
  presence.event('n1', { type: 'joined', channel: 'c', name: 'A' }, { s: 7, p: { A: 1 } });
  presence.stored('n1', 'c', { s: 9, p: { A: 1, Z: 1 } }, false);
  presence.stored('n2', 'c', { s: 3, p: { B: 2 } }, false);
  presence.stored('n3', 'c', undefined, false);
  assert.deepEqual(told, ['joined|A']);
  assert.deepEqual(lists(), [{ A: 1 }, { B: 2 }]);
  // The event in flight when the store was read is still told.
  presence.event('n1', { type: 'joined', channel: 'c', name: 'Z' }, { s: 9, p: { A: 1, Z: 1 } });
  assert.deepEqual(told, ['joined|A', 'joined|Z']);
});

test('a resync tells the differences once per membership, and a stale read changes nothing', () => {
  const { presence, told, lists } = mirror();
  presence.stored('n1', 'c', { s: 2, p: { A: 1, B: 2 } }, false);
  presence.stored('n1', 'c', { s: 6, p: { B: 1, C: 1 } }, true);
  assert.deepEqual(told.sort(), ['joined|C', 'left|A', 'left|B']);
  presence.stored('n1', 'c', { s: 5, p: {} }, true);
  assert.deepEqual(lists(), [{ B: 1, C: 1 }]);
  presence.stored('n1', 'c', undefined, true);
  assert.deepEqual(lists(), []);
});

test('a dead node: each of its members is told as left, in every channel it was in', () => {
  const { presence, told } = mirror();
  presence.watch('d');
  presence.stored('n1', 'c', { s: 1, p: { A: 2 } }, false);
  presence.stored('n1', 'd', { s: 1, p: { B: 1 } }, false);
  assert.deepEqual(presence.drop('n1').sort(), ['c', 'd']);
  assert.deepEqual(told, ['left|A', 'left|A', 'left|B']);
  assert.deepEqual(presence.drop('n1'), []);
});

test('a resync read that found no list does not undo a live event that arrived while it was under way', () => {
  const { presence, told, lists } = mirror();
  const mark = presence.mark();
  // The read looked before n1 stored its list; n1's joined arrives before the read's answer.
  presence.event('n1', { type: 'joined', channel: 'c', name: 'A' }, { s: 3, p: { A: 1 } });
  presence.stored('n1', 'c', undefined, true, mark);
  assert.deepEqual(told, ['joined|A']);
  assert.deepEqual(lists(), [{ A: 1 }]);
  // A read begun after the event that finds no list means the list is gone (the broker lost it).
  presence.stored('n1', 'c', undefined, true, presence.mark());
  assert.deepEqual(told, ['joined|A', 'left|A']);
  assert.deepEqual(lists(), []);
});
