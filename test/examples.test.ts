import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { chatServer } from '../examples/chat.js';
import { counterServer } from '../examples/counter.js';
import { diceServer } from '../examples/dice.js';
import { createResoniteClient, type ResobridgeServer } from '../src/index.js';

/** Starts an example; returns a way to connect to it as a Resonite world would. */
async function start(t: TestContext, server: ResobridgeServer) {
  const { port } = await server.listen();
  t.after(() => server.close());
  return async (path: string) => {
    const client = createResoniteClient(`ws://127.0.0.1:${port}${path}`);
    t.after(() => client.close());
    await client.opened();
    return client;
  };
}

const options = { port: 0, logLevel: 'silent', store: 'memory', closeLingerMs: 10 } as const;

test('examples/dice.ts: roll answers with a result in range and tells the table', async (t) => {
  const connect = await start(t, diceServer(options));
  const table = await connect('/channel/table');
  const player = await connect('/api?name=Alice');
  player.send('roll|20');
  const [tag, sides, result] = (await player.next()).split('|');
  assert.equal(tag, 'rolled');
  assert.equal(sides, '20');
  assert.ok(Number(result) >= 1 && Number(result) <= 20);
  assert.equal(await table.next(), `rolled ${result} on a d20`);
  player.send('roll');
  assert.match(await player.next(), /^rolled\|6\|[1-6]$/);
  player.send('roll|1');
  assert.equal(await player.next(), 'error|roll|sides must be a whole number from 2 to 1000 (got "1")');
  player.send('help');
  assert.match(await player.next(), / roll$/);
});

test('examples/chat.ts: worlds in a room see each other\'s lines; newcomers get recent ones', async (t) => {
  const connect = await start(t, chatServer(options));
  const alice = await connect('/chat?room=lobby&name=Alice');
  assert.equal(await alice.next(), 'welcome|lobby');
  alice.send('hello everyone');
  const bob = await connect('/chat?room=lobby&name=Bob');
  assert.equal(await bob.next(), 'welcome|lobby');
  assert.equal(await bob.next(), 'msg|lobby|Alice|hello everyone');
  bob.send('hi Alice');
  assert.equal(await alice.next(), 'msg|lobby|Bob|hi Alice');
  const lost = await connect('/chat?room=no%20spaces');
  assert.match(await lost.next(), /^error\|\/chat\|"no spaces" is not a valid channel name/);
});

test('examples/counter.ts: click counts, watchers see it, reset', async (t) => {
  const connect = await start(t, counterServer(options));
  const display = await connect('/api?ns=w');
  const button = await connect('/api?ns=w');
  display.send('watch|clicks');
  assert.equal(await display.next(), 'missing|clicks');
  button.send('click');
  assert.equal(await button.next(), 'count|1');
  assert.equal(await display.next(), 'value|clicks|1');
  button.send('click');
  assert.equal(await button.next(), 'count|2');
  assert.equal(await display.next(), 'value|clicks|2');
  button.send('reset');
  assert.equal(await button.next(), 'count|0');
  assert.equal(await display.next(), 'value|clicks|0');
});
