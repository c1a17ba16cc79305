import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { ConfigError, createServer, loadConfig } from '../src/index.js';
import { refusedHandshake, runCli, startServer, TestClient } from './helpers.js';

const ADMIN = 'admin-secret-0123456789';
const READER = 'reader-secret-0123456789';
const WORLD = 'world-secret-0123456789';
const tokens = [
  { name: 'admin', token: ADMIN, allow: ['*'] },
  // A read key for the news channel and read-only keys: stored as a hash, so the config holds no secret.
  { name: 'reader', sha256: createHash('sha256').update(READER).digest('hex'), allow: ['channel:news:r', 'api:r'] },
  { name: 'world', token: WORLD, allow: ['echo', 'api', 'channel:world-a.*'] },
];

test('with tokens, a missing or unknown token gets 401, a token without the scope 403, with a text that says why', async (t) => {
  const { ws } = await startServer(t, { tokens });
  const missing = await refusedHandshake(ws('/echo'));
  assert.equal(missing.status, 401);
  assert.match(missing.body, /needs a token\. Add \?token=YOUR-TOKEN to the URL/);
  const wrong = await refusedHandshake(ws('/echo?token=nope'));
  assert.equal(wrong.status, 401);
  assert.match(wrong.body, /That token is not valid on this server/);
  const scope = await refusedHandshake(ws(`/channel/lobby?token=${WORLD}`));
  assert.equal(scope.status, 403);
  assert.match(scope.body, /The token "world" may not use \/channel\/lobby/);
  const echo = await TestClient.connect(t, ws(`/echo?token=${WORLD}`));
  echo.send('hi');
  assert.equal(await echo.next(), 'hi');
});

test('the path form /t/<token>/… works for tools that drop query strings', async (t) => {
  const { ws } = await startServer(t, { tokens });
  const client = await TestClient.connect(t, ws(`/t/${WORLD}/channel/world-a.lobby?echo=1`));
  client.send('via path');
  assert.equal(await client.next(), 'via path');
});

test('a read key receives a channel but cannot publish to it', async (t) => {
  const { ws } = await startServer(t, { tokens });
  const reader = await TestClient.connect(t, ws(`/channel/news?token=${READER}`));
  const writer = await TestClient.connect(t, ws(`/channel/news?token=${ADMIN}`));
  writer.send('headline');
  assert.equal(await reader.next(), 'headline');
  reader.send('graffiti');
  assert.equal(await reader.next(), 'error|auth|the token "reader" may only read channel news; nothing was sent');
  writer.send('second');
  assert.equal(await reader.next(), 'second', 'the writer never got the graffiti; the reader still receives');
});

test('in command mode the scopes apply to keys and channels', async (t) => {
  const { ws } = await startServer(t, { tokens });
  const reader = await TestClient.connect(t, ws(`/api?token=${READER}`));
  const world = await TestClient.connect(t, ws(`/api?token=${WORLD}`));
  const ask = (client: TestClient, text: string) => client.ask(text);
  assert.equal(await ask(world, 'set|score|1'), 'ok|set|score');
  assert.equal(await ask(reader, 'get|score'), 'value|score|1');
  assert.equal(await ask(reader, 'set|score|2'), 'error|set|the token "reader" may only read keys');
  assert.equal(await ask(reader, 'incr|score'), 'error|incr|the token "reader" may only read keys');
  assert.equal(await ask(reader, 'join|news'), 'ok|join|news');
  assert.equal(await ask(reader, 'pub|news|x'), 'error|pub|the token "reader" may not publish to channel "news"');
  assert.equal(await ask(world, 'join|news'), 'error|join|the token "world" may not join channel "news"');
  assert.equal(await ask(world, 'pub|world-a.chat|hello'), 'ok|pub|world-a.chat');
});

test('tokens never appear in the logs', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  const server = createServer({ port: 0, store: 'memory', tokens, logger, closeLingerMs: 10 });
  const { port } = await server.listen();
  t.after(() => server.close());
  const base = `ws://127.0.0.1:${port}`;
  const viaQuery = await TestClient.connect(t, `${base}/echo?token=${WORLD}&name=Q`);
  const viaPath = await TestClient.connect(t, `${base}/t/${ADMIN}/echo`);
  await refusedHandshake(`${base}/t/${READER}/echo`);
  await refusedHandshake(`${base}/nothing?token=${WORLD}`);
  viaQuery.socket.close();
  viaPath.socket.close();
  await Promise.all([viaQuery.closed, viaPath.closed]);
  await server.close();
  const log = lines.join('');
  assert.match(log, /"token":"world"/, 'the token name is logged');
  for (const secret of [ADMIN, READER, WORLD]) assert.ok(!log.includes(secret), `a secret leaked into the log: ${secret}`);
});

test('a non-loopback address with no tokens refuses to start unless allowAnonymous', async (t) => {
  assert.throws(
    () => createServer({ host: '0.0.0.0', port: 0, store: 'memory' }),
    (error: unknown) => error instanceof ConfigError && /anyone could use this server\. Configure tokens .* or set allowAnonymous/.test(error.message),
  );
  const open = createServer({ host: '0.0.0.0', port: 0, store: 'memory', allowAnonymous: true, logLevel: 'silent' });
  await open.listen();
  t.after(() => open.close());
  const tokened = createServer({ host: '0.0.0.0', port: 0, store: 'memory', tokens, logLevel: 'silent' });
  await tokened.listen();
  t.after(() => tokened.close());
});

test('bad token settings are refused with the reason', () => {
  assert.throws(
    () => createServer({ tokens: [{ name: 'x', token: 'short', allow: ['echo'] }] } as never),
    /option "tokens" must be a list of tokens.*\(got a value not shown here, as it holds secrets\); \[0\]\.token: a token must have at least 16 characters\./,
  );
  assert.throws(
    () => createServer({ tokens: [{ name: 'x', token: 'long-enough-secret-123', allow: ['channel'] }] } as never),
    /\[0\]\.allow\[0\]: not a scope: use echo, api, api:r, channel:<pattern>/,
  );
  assert.throws(() => loadConfig({ env: { RESOBRIDGE_TOKENS: '[{' } }), /RESOBRIDGE_TOKENS must be a list of tokens.*not valid JSON/);
});

test('with trustProxy the address is the entry the proxy added to X-Forwarded-For (the last; what the client wrote before it is ignored); without it, from the socket', async (t) => {
  const seen: string[] = [];
  for (const trustProxy of [true, false]) {
    const server = createServer({ port: 0, store: 'memory', logLevel: 'silent', trustProxy }).onConnect((context) => {
      seen.push(context.connection.remoteAddress);
    });
    const { port } = await server.listen();
    t.after(() => server.close());
    // The client claimed 203.0.113.7; the proxy appended the address it saw, 198.51.100.4.
    const client = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo`, { headers: { 'X-Forwarded-For': '203.0.113.7, 198.51.100.4' } });
    client.send('x');
    await client.next();
  }
  assert.deepEqual(seen, ['198.51.100.4', '127.0.0.1']);
});

test('resobridge token prints a token and config lines that work as printed', async (t) => {
  const { code, stdout } = await runCli(['token', '--name', 'world-b', '--allow', 'echo,channel:lobby:r']);
  assert.equal(code, 0);
  const token = /^ {2}(\S+)$/m.exec(stdout)?.[1] ?? '';
  const lines = stdout.slice(stdout.indexOf('  - name:'));
  assert.ok(!lines.includes(token), 'the config lines hold only the hash');
  const file = join(mkdtempSync(join(tmpdir(), 'resobridge-token-')), 'resobridge.yaml');
  writeFileSync(file, `tokens:\n${lines}`);
  const server = createServer({ ...loadConfig({ file }), port: 0, store: 'memory', logLevel: 'silent' });
  const { port } = await server.listen();
  t.after(() => server.close());
  const client = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo?token=${token}`);
  client.send('hello');
  assert.equal(await client.next(), 'hello');
  assert.equal((await refusedHandshake(`ws://127.0.0.1:${port}/api?token=${token}`)).status, 403);
});

test('a token made with the default scope works with /echo, the guide\'s first URL; a refusal names the scope to add', async (t) => {
  const { code, stdout } = await runCli(['token', '--name', 'my-world']);
  assert.equal(code, 0);
  const token = /^ {2}(\S+)$/m.exec(stdout)?.[1] ?? '';
  const file = join(mkdtempSync(join(tmpdir(), 'resobridge-token-')), 'resobridge.yaml');
  writeFileSync(file, `tokens:\n${stdout.slice(stdout.indexOf('  - name:'))}`);
  const server = createServer({ ...loadConfig({ file }), port: 0, store: 'memory', logLevel: 'silent' });
  const { port } = await server.listen();
  t.after(() => server.close());
  const echo = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo?token=${token}`);
  assert.equal(await echo.ask('hello'), 'hello');

  const { ws } = await startServer(t, { tokens });
  const refused = await refusedHandshake(ws(`/channel/lobby?token=${WORLD}`));
  assert.equal(refused.status, 403);
  assert.match(refused.body, /The token "world" may not use \/channel\/lobby: it needs the scope "channel:lobby"\. Add "channel:lobby" to that token's allow list/);
  const reader = await refusedHandshake(ws(`/echo?token=${READER}`));
  assert.match(reader.body, /it needs the scope "echo"/);
});
