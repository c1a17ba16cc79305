import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { arg, createServer, messages, RequestError, vec } from '../src/index.js';
import { TestClient } from './helpers.js';

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test('custom commands get typed fields, reply, throw, and appear in help', async (t) => {
  const { logger, lines } = capturedLogger();
  const server = createServer({ port: 0, store: 'memory', logger })
    .command('move', {
      help: 'move by a distance',
      args: { distance: arg.number(), fast: arg.bool().default(false), label: arg.text(10).optional() },
      handler: ({ distance, fast, label }) => {
        const typed: [number, boolean, string | undefined] = [distance, fast, label];
        return ['moved', vec(typed[0], 0, 0), typed[1], typed[2] ?? 'none'];
      },
    })
    .command('boom', {
      help: 'always fails',
      handler: async () => {
        throw new Error('the reactor is offline');
      },
    })
    .command('deny', {
      help: 'refuses politely',
      handler: () => {
        throw new RequestError('not your turn; wait for yours');
      },
    })
    .command('both', {
      help: 'replies twice',
      handler: (_args, context) => {
        context.reply('first');
        context.send(messages.server('a push without the id'));
        context.reply(messages.ok('both', 'done'));
      },
    });
  const { port } = await server.listen();
  t.after(() => server.close());
  const client = await TestClient.connect(t, `ws://127.0.0.1:${port}/api`);
  const ask = (text: string) => client.ask(text);
  assert.equal(await ask('move|2.5|yes'), 'moved|[2.5;0;0]|true|none');
  assert.equal(await ask('move#9|-1||tag'), 'moved#9|[-1;0;0]|false|tag');
  assert.equal(await ask('move|far'), 'error|move|distance must be a number such as 2.5 or -3 (2,5 works too) (got "far")');
  assert.equal(await ask('move|1|0|much too long'), 'error|move|label must be a text of up to 10 characters (got "much too long")');
  assert.equal(await ask('boom'), 'error|boom|the reactor is offline');
  assert.equal(await ask('deny'), 'error|deny|not your turn; wait for yours');
  assert.equal(await ask('both#x'), 'first#x');
  assert.equal(await client.next(), 'server|a push without the id');
  assert.equal(await client.next(), 'ok#x|both|done');
  assert.equal(await ask('help'), 'help|ping help join leave members pub get set del keys incr watch unwatch move boom deny both');
  assert.equal(await ask('help|move'), 'help|move|move%7C<distance>%7C[fast]%7C[label]: move by a distance');
  assert.equal(await ask('ping'), 'pong', 'the server keeps running');
  const failure = lines.find((line) => line.msg === 'command failed');
  assert.equal((failure?.err as { message?: string } | undefined)?.message, 'the reactor is offline');
  assert.equal(lines.filter((line) => line.msg === 'command failed').length, 1, 'a RequestError is the client\'s mistake, not logged as a failure');
});

test('bad command names and duplicates are refused when registered', () => {
  const server = createServer({ store: 'memory' });
  assert.throws(() => server.command('Roll Dice', { help: '', handler: () => {} }), /Command name "Roll Dice" is not allowed/);
  assert.throws(() => server.command('set', { help: '', handler: () => {} }), /Command "set" is registered already/);
});

test('onConnect and onDisconnect hooks run for every connection, with its context', async (t) => {
  const server = createServer({ port: 0, store: 'memory', logLevel: 'silent', closeLingerMs: 10 });
  const seen: string[] = [];
  let disconnected: () => void = () => {};
  const gone = new Promise<void>((resolve) => (disconnected = resolve));
  server
    .onConnect(async (context) => {
      seen.push(`connect ${context.connection.path} ${context.connection.name}`);
      await context.store.incr('visitors');
      context.send('welcome', context.connection.name);
    })
    .onDisconnect((context) => {
      seen.push(`disconnect ${context.connection.name}`);
      disconnected();
    });
  const { port } = await server.listen();
  t.after(() => server.close());
  const client = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo?name=Zoe`);
  assert.equal(await client.next(), 'welcome|Zoe');
  client.socket.close();
  await gone;
  assert.deepEqual(seen, ['connect /echo Zoe', 'disconnect Zoe']);
  assert.equal(await server.store().get('visitors'), '1');
});

test('a custom endpoint gets text and a context; its errors go to that client only', async (t) => {
  const server = createServer({ port: 0, store: 'memory', logLevel: 'silent' }).endpoint('/shout', {
    summary: 'shouts back',
    options: ['volume'],
    onMessage(text, context) {
      if (text === 'fail') throw new Error('cannot shout that');
      const volume = Number(context.connection.query.get('volume') ?? 1);
      context.send('shout', text.toUpperCase() + '!'.repeat(volume));
    },
  });
  assert.throws(() => server.endpoint('/echo', { onMessage: () => {} }), /The path \/echo is served already/);
  assert.throws(() => server.endpoint('no-slash', { onMessage: () => {} }), /Endpoint path "no-slash" is not allowed/);
  const { port } = await server.listen();
  t.after(() => server.close());
  assert.ok(server.endpoints.some((endpoint) => endpoint.path === '/shout'));
  const client = await TestClient.connect(t, `ws://127.0.0.1:${port}/shout?volume=3`);
  client.send('hi');
  assert.equal(await client.next(), 'shout|HI!!!');
  client.send('fail');
  assert.equal(await client.next(), 'error|/shout|cannot shout that');
  const other = await TestClient.connect(t, `ws://127.0.0.1:${port}/shout?loud=1`);
  assert.match(await other.next(), /^error\|query\|unknown option "loud"; this endpoint understands name, ns, rate, token, volume/);
});

test('server.publish and server.store reach clients like any other sender', async (t) => {
  const server = createServer({ port: 0, store: 'memory', logLevel: 'silent' });
  const { port } = await server.listen();
  t.after(() => server.close());
  const member = await TestClient.connect(t, `ws://127.0.0.1:${port}/api`);
  member.send('join|news');
  assert.equal(await member.next(), 'ok|join|news');
  member.send('watch|headline');
  assert.equal(await member.next(), 'missing|headline');
  server.publish('news', 'extra!');
  assert.equal(await member.next(), 'msg|news|server|extra!');
  await server.store().set('headline', 'big news');
  assert.equal(await member.next(), 'value|headline|big news');
});
