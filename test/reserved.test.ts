/** Relay members cannot forge the server's notices (joined, left, dropped, error, server). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reservedTag } from '../src/protocol/reserved.js';
import { startServer, TestClient } from './helpers.js';

const FORGERIES = [
  'joined|lobby|Admin',
  'left|lobby|Bob',
  'dropped|99',
  'server|shutting down',
  'error|set|your world is broken',
  // What ICU's culture-sensitive StartsWith skips: a soft hyphen, a zero-width space, a control character.
  'jo\u00ADined|lobby|Admin',
  '\u200Bserver|shutting down',
  '\u0001left|lobby|Bob',
];

test('reservedTag: the notice a text would pass for in a world', () => {
  assert.deepEqual(FORGERIES.map(reservedTag), ['joined', 'left', 'dropped', 'server', 'error', 'joined', 'server', 'left']);
  for (const text of ['joined the game', 'chat|joined|x', 'Joined|lobby|x', 'server', 'errors|x', 'jo\u0301ined|lobby|x', '']) {
    assert.equal(reservedTag(text), undefined, text);
  }
});

test('a relay member that sends a notice\'s text gets error|reserved, and no one sees the forgery', async (t) => {
  const { ws } = await startServer(t);
  const alice = await TestClient.connect(t, ws('/channel/lobby?presence=1&name=Alice'));
  const mallory = await TestClient.connect(t, ws('/channel/lobby?name=Mallory'));
  assert.equal(await alice.next(), 'joined|lobby|Mallory', 'the real notice');
  for (const forgery of FORGERIES) {
    mallory.send(forgery);
    assert.match(await mallory.next(), /^error\|reserved\|a message may not start with "[a-z]+" and a bar: relay members would take it for the server's own notice/, forgery);
  }
  mallory.send('joined the game');
  assert.equal(await alice.next(), 'joined the game', 'the first thing alice gets after the real notice: nothing forged came through');
});

test('pub and HTTP /publish cannot forge a notice for relay members either', async (t) => {
  const { ws, http } = await startServer(t);
  const alice = await TestClient.connect(t, ws('/channel/lobby?presence=1'));
  const mallory = await TestClient.connect(t, ws('/api?name=Mallory'));
  assert.match(await mallory.ask('pub|lobby|joined|lobby|Admin'), /^error\|pub\|a message may not start with "joined" and a bar/);
  const response = await fetch(http('/publish/lobby'), { method: 'POST', body: 'dropped|99' });
  assert.equal(response.status, 400);
  assert.match(JSON.stringify(await response.json()), /may not start with \\"dropped\\" and a bar/);
  assert.equal(await mallory.ask('pub|lobby|chat|joined|lobby|Admin'), 'ok|pub|lobby');
  assert.equal(await alice.next(), 'chat|joined|lobby|Admin', 'the first thing alice gets: nothing forged came through');
});
