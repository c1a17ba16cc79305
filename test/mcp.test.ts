/**
 * `resobridge mcp` (stdio, a real child process) and the server's own /mcp
 * (Streamable HTTP), each driven by the SDK's Client against a real server:
 * every tool, bad arguments, tokens without the scope, a server that is down.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { bannerText } from '../src/cli/banner.js';
import { loadConfig } from '../src/config/load.js';
import { capturedLogger, cliCommand, runCli, startServer, TestClient } from './helpers.js';

const TOOLS = [
  'channel_members',
  'delete_key',
  'get_key',
  'list_channels',
  'list_connections',
  'list_keys',
  'publish',
  'read_messages',
  'set_key',
  'wait_for_message',
].sort();

/** An MCP client of `resobridge mcp …` run as a child process; its stderr is collected. */
async function stdioClient(t: TestContext, args: string[], env: Record<string, string> = {}) {
  const { command, args: all, env: childEnv } = cliCommand(['mcp', ...args], env);
  const transport = new StdioClientTransport({ command, args: all, env: childEnv as Record<string, string>, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const client = new Client({ name: 'test', version: '1.0.0' });
  // Anything on stdout that is not an MCP message shows up here (a parse error).
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  t.after(() => client.close());
  await client.connect(transport);
  return { client, stderr: () => stderr, errors };
}

async function httpClient(t: TestContext, url: string, token?: string) {
  const transport = new StreamableHTTPClientTransport(new URL(url), token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : undefined);
  const client = new Client({ name: 'test', version: '1.0.0' });
  t.after(() => client.close());
  await client.connect(transport);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return { isError: result.isError === true, text: first?.type === 'text' ? first.text : '' };
}

async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { isError, text } = await call(client, name, args);
  assert.equal(isError, false, `${name}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Every tool, with a relay world (alice) and a command-mode world (bob) in the lobby. */
async function exerciseTools(t: TestContext, client: Client, ws: (path: string) => string, sender: string): Promise<void> {
  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((tool) => tool.name).sort(), TOOLS);
  const alice = await TestClient.connect(t, ws('/channel/lobby?name=alice'));
  const bob = await TestClient.connect(t, ws('/api?name=bob&ns=world'));
  assert.equal(await bob.ask('join|lobby'), 'ok|join|lobby');

  assert.deepEqual(await ok(client, 'publish', { channel: 'lobby', text: 'hello, worlds' }), { channel: 'lobby' });
  assert.equal(await alice.next(), 'hello, worlds');
  assert.equal(await bob.next(), `msg|lobby|${sender}|hello, worlds`);
  assert.deepEqual(await ok(client, 'list_channels'), { total: 1, channels: [{ channel: 'lobby', total: 2, members: ['alice', 'bob'] }] });
  assert.deepEqual(await ok(client, 'channel_members', { channel: 'lobby' }), { channel: 'lobby', total: 2, members: ['alice', 'bob'] });
  assert.deepEqual(await ok(client, 'read_messages', { channel: 'lobby', limit: 5 }), { channel: 'lobby', messages: [{ from: sender, text: 'hello, worlds' }] });

  // The wait starts when the server reads it; alice keeps talking until the agent hears her.
  const heard = ok(client, 'wait_for_message', { channel: 'lobby', timeoutSeconds: 10 });
  let settled = false;
  void heard.finally(() => (settled = true));
  for (let i = 0; !settled && i < 100; i++) {
    alice.send(`hi agent ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { message } = (await heard) as { message: { from: string; text: string } };
  assert.equal(message.from, 'alice');
  assert.match(message.text, /^hi agent \d+$/);
  assert.deepEqual(await ok(client, 'wait_for_message', { channel: 'quiet', timeoutSeconds: 1 }), { channel: 'quiet', message: null, timedOut: true });
  // Bob heard alice too: he leaves, and what he heard before is passed over.
  bob.send('leave|lobby');
  for (let i = 0; i < 200 && (await bob.next()) !== 'ok|leave|lobby'; i++);

  assert.equal(await bob.ask('watch|score'), 'missing|score');
  assert.deepEqual(await ok(client, 'set_key', { key: 'score', value: '42', ns: 'world' }), { key: 'score' });
  assert.equal(await bob.next(), 'value|score|42');
  assert.deepEqual(await ok(client, 'get_key', { key: 'score', ns: 'world' }), { key: 'score', value: '42' });
  assert.deepEqual(await ok(client, 'get_key', { key: 'score' }), { key: 'score', value: null }, 'another namespace');
  assert.deepEqual(await ok(client, 'list_keys', { prefix: 'sc', ns: 'world' }), { ns: 'world', prefix: 'sc', keys: ['score'] });
  assert.deepEqual(await ok(client, 'delete_key', { key: 'score', ns: 'world' }), { deleted: true });
  assert.equal(await bob.next(), 'missing|score');

  const { connections, total } = (await ok(client, 'list_connections')) as { total: number; connections: { name: string }[] };
  assert.equal(total, 2);
  assert.deepEqual(connections.map(({ name }) => name).sort(), ['alice', 'bob']);

  // Bad arguments: a clear isError result, never a crash.
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['publish', { channel: 'no spaces', text: 'x' }, /a channel name is/],
    ['publish', { channel: 'lobby' }, /text/],
    ['wait_for_message', { channel: 'lobby', timeoutSeconds: 600 }, /timeoutSeconds/],
    ['read_messages', { channel: 'lobby', limit: 0 }, /limit/],
    ['get_key', {}, /key/],
  ];
  for (const [name, args, why] of bad) {
    const result = await call(client, name, args);
    assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}`);
    assert.match(result.text, why, name);
  }
  // A reserved tag (a world would take it for a server notice) is refused by the server, and said so.
  const reserved = await call(client, 'publish', { channel: 'lobby', text: 'error|fake|notice' });
  assert.equal(reserved.isError, true);
  assert.match(reserved.text, /^resobridge refused \(400\): /);
}

test('resobridge mcp over stdio: every tool through a running server, stdout only MCP', async (t) => {
  const { ws, http } = await startServer(t);
  const { client, stderr, errors } = await stdioClient(t, ['--url', http('')]);
  await exerciseTools(t, client, ws, 'agent');
  assert.deepEqual(errors, []);
  assert.match(stderr(), /serving MCP on stdio, using http:\/\/127\.0\.0\.1:\d+/);
});

test('resobridge mcp: a token without the needed scope gets the server\'s refusal; the token is never printed', async (t) => {
  const token = 'reader-secret-0123456789ab';
  const log = capturedLogger();
  const tokens = [{ name: 'reader', token, allow: ['channel:lobby:r', 'api:r'] }, { name: 'world', token: 'world-secret-0123456789ab', allow: ['*'] }];
  const { ws, http } = await startServer(t, { tokens, logger: log.logger });
  await TestClient.connect(t, ws('/channel/lobby?name=alice&token=world-secret-0123456789ab'));
  const wrong = 'wrong-secret-0123456789abc';
  const file = join(mkdtempSync(join(tmpdir(), 'resobridge-mcp-')), 'token');
  writeFileSync(file, `${wrong}\n`);
  const viaEnv = await stdioClient(t, ['--url', http('')], { RESOBRIDGE_TOKEN: token });
  assert.deepEqual(await ok(viaEnv.client, 'channel_members', { channel: 'lobby' }), { channel: 'lobby', total: 1, members: ['alice'] });
  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['publish', { channel: 'lobby', text: 'hi' }, /^resobridge refused \(403\): the token "reader" may not publish to channel "lobby": it needs the scope "channel:lobby"/],
    ['read_messages', { channel: 'staff' }, /\(403\): the token "reader" may not read channel "staff"/],
    ['set_key', { key: 'k', value: 'v' }, /\(403\): the token "reader" may only read keys/],
    ['list_connections', {}, /\(403\): the token "reader" may not list connections: it needs the scope "connections"/],
  ];
  for (const [name, args, why] of refusals) {
    const result = await call(viaEnv.client, name, args);
    assert.equal(result.isError, true, name);
    assert.match(result.text, why);
  }
  const viaFile = await stdioClient(t, ['--url', http(''), '--token-file', file]);
  const refused = await call(viaFile.client, 'list_channels');
  assert.equal(refused.isError, true);
  assert.match(refused.text, /^resobridge refused \(401\): That token is not valid on this server/);
  for (const [{ stderr }, secret] of [[viaEnv, token], [viaFile, wrong]] as const) {
    assert.match(stderr(), /with a token/);
    assert.ok(!stderr().includes(secret), stderr());
    assert.ok(!log.text().includes(secret), 'not in the server log either');
  }
  assert.ok(log.find('http request refused').length >= 4, 'the refusals are logged (by token name)');
});

test('resobridge mcp: a server that is down gives a clear isError result, and the MCP server stays up', async (t) => {
  // A port that was just free: nothing listens there.
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  const { client } = await stdioClient(t, ['--url', `http://127.0.0.1:${port}`]);
  for (const name of ['list_channels', 'list_connections']) {
    const result = await call(client, name);
    assert.equal(result.isError, true);
    assert.equal(result.text, `cannot reach resobridge at http://127.0.0.1:${port}: nothing is listening there. Start it (resobridge serve) or fix --url`);
  }
  assert.equal((await client.listTools()).tools.length, TOOLS.length, 'still answering');
});

test('/mcp in the server (Streamable HTTP): every tool, with the caller\'s token deciding', async (t) => {
  const { ws, http } = await startServer(t, { mcp: true });
  const client = await httpClient(t, http('/mcp'));
  await exerciseTools(t, client, ws, 'agent');
});

test('/mcp: off by default, tokens and scopes, no web pages, loopback only without tokens', async (t) => {
  const off = await startServer(t);
  const offResponse = await fetch(off.http('/mcp'), { method: 'POST', body: '{}' });
  assert.equal(offResponse.status, 404);
  assert.match(((await offResponse.json()) as { error: { message: string } }).error.message, /The MCP endpoint is off on this server\. Start it with --mcp/);

  const tokens = [{ name: 'reader', token: 'reader-secret-0123456789ab', allow: ['channel:lobby:r'] }];
  const guarded = await startServer(t, { mcp: true, tokens });
  const reader = await httpClient(t, guarded.http('/mcp'), 'reader-secret-0123456789ab');
  const refused = await call(reader, 'publish', { channel: 'lobby', text: 'hi' });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /\(403\): the token "reader" may not publish to channel "lobby"/);
  assert.deepEqual(await ok(reader, 'channel_members', { channel: 'lobby' }), { channel: 'lobby', total: 0, members: [] });
  await assert.rejects(httpClient(t, guarded.http('/mcp')), /needs a token/);

  const open = await startServer(t, { mcp: true, trustProxy: true });
  assert.match(bannerText(open.server, open.server.address ?? assert.fail('not listening')), /MCP for AI agents: http:\/\/localhost:\d+\/mcp/);
  assert.doesNotMatch(bannerText(off.server, off.server.address ?? assert.fail('not listening')), /MCP/);
  const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const cases: [Record<string, string>, number, RegExp][] = [
    [{ origin: 'https://evil.example' }, 403, /Web pages may not use this server/],
    [{ 'x-forwarded-for': '203.0.113.9' }, 403, /answers only programs on the same computer/],
  ];
  for (const [extra, status, why] of cases) {
    const response = await fetch(open.http('/mcp'), { method: 'POST', headers: { ...headers, ...extra }, body: initialize });
    assert.equal(response.status, status, JSON.stringify(extra));
    assert.match(((await response.json()) as { error: { message: string } }).error.message, why);
  }
  const get = await fetch(open.http('/mcp'), { headers });
  assert.equal(get.status, 405);
  const fine = await fetch(open.http('/mcp'), { method: 'POST', headers, body: initialize });
  assert.equal(fine.status, 200);
  assert.equal(((await fine.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name, 'resobridge');
});

test('resobridge mcp: command-line mistakes exit 2 with what to do; RESOBRIDGE_TOKEN does not trouble serve', async () => {
  const typo = await runCli(['mcp', '--tokn', 'x']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Unknown option --tokn\. Did you mean --token\? See: .*mcp.* --help/);
  const both = await runCli(['mcp', '--token', 'a', '--token-file', 'b']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /Give the token once: --token or --token-file, not both\./);
  assert.equal(both.stdout, '', 'stdout is for MCP only');
  // Set for `resobridge mcp` in a shell, it must not stop `resobridge serve` as an unknown setting.
  assert.equal(loadConfig({ env: { RESOBRIDGE_TOKEN: 'for-the-agent-0123456789' } }).port, 8778);
});
