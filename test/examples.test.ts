import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chatServer } from '../examples/chat.js';
import { counterServer } from '../examples/counter.js';
import { diceServer } from '../examples/dice.js';
import { createResoniteClient, type ResobridgeServer } from '../src/index.js';
import { waitForOutput } from './helpers.js';

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

/** Runs an example as the README says (npx tsx examples/…), with only the given RESOBRIDGE_* settings. */
function runExampleFile(t: TestContext, file: string, env: Record<string, string>, args: string[] = []) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESOBRIDGE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`../examples/${file}`, import.meta.url)), ...args], {
    env: { ...clean, RESOBRIDGE_STORE: 'memory', RESOBRIDGE_LOG_LEVEL: 'silent', ...env },
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  return { child, stderr: () => stderr };
}

test('the examples honour RESOBRIDGE_PORT and --port, and a taken port is a message, not a stack trace', { timeout: 60_000 }, async (t) => {
  const blocker = createNetServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const taken = String((blocker.address() as AddressInfo).port);

  const busy = runExampleFile(t, 'dice.ts', { RESOBRIDGE_PORT: taken });
  const [code] = (await once(busy.child, 'exit')) as [number];
  assert.equal(code, 1);
  assert.match(busy.stderr(), new RegExp(`^Port ${taken} is already in use on 127\\.0\\.0\\.1`));
  assert.doesNotMatch(busy.stderr(), /\n\s+at /, 'no stack trace');

  const viaEnv = runExampleFile(t, 'chat.ts', { RESOBRIDGE_PORT: '0' });
  const { match } = await waitForOutput(viaEnv.child, /ws:\/\/localhost:(\d+)\/chat\?room=lobby/);
  const client = createResoniteClient(`ws://127.0.0.1:${match[1]}/chat?room=lobby`);
  t.after(() => client.close());
  await client.opened();
  assert.equal(await client.next(), 'welcome|lobby');

  const viaFlag = runExampleFile(t, 'counter.ts', {}, ['--port', '0']);
  const { match: flagged } = await waitForOutput(viaFlag.child, /ws:\/\/localhost:(\d+)\/api\?ns=my-world/);
  assert.notEqual(flagged[1], '8778');
});
