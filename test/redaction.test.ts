/** Tokens never reach the log, however a client mistyped them, and every refusal says why there. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.js';
import { redactPath } from '../src/util/redact-url.js';
import { capturedLogger, refusedHandshake, startServer, TestClient } from './helpers.js';

const SECRET = 'Secret-Token-0123456789abcdef';
const tokens = [{ name: 'world', token: SECRET, allow: ['echo', 'api', 'channel:*'] }];

/** Ways people have typed a token into a URL: each one must be redacted. */
const MISTYPED = [
  `/T/${SECRET}/echo`,
  `//t/${SECRET}/echo`,
  `/%74/${SECRET}/echo`,
  `/%2574/${SECRET}/echo`,
  `/api&token=${SECRET}`,
  `/api&TOKEN=${SECRET}`,
  `/api;token=${SECRET}`,
  `/echo/t/${SECRET}`,
  `/t//${SECRET}/echo`,
  `/%2Ft%2F${SECRET}/echo`,
  `/%20t/${SECRET}/echo`,
  `/token/${SECRET}/echo`,
  `/channel/lobby&token=${SECRET}`,
  `/api%3Ftoken=${SECRET}`,
  `/nothing?token=${SECRET}`,
];

test('redactPath removes the token from every mistyped form', () => {
  for (const path of [...MISTYPED, `/t/${SECRET}/echo`, `/t/${encodeURIComponent(SECRET)}`, `\\t\\${SECRET}\\echo`]) {
    const shown = redactPath(path);
    assert.ok(!shown.includes(SECRET), `${path} → ${shown}`);
    assert.ok(!shown.includes(SECRET.slice(0, 12)), `part of the token is left in ${path} → ${shown}`);
  }
  assert.equal(redactPath('/channel/lobby'), '/channel/lobby', 'a path without a token is left alone');
  assert.equal(redactPath(`/t/${SECRET}/channel/lobby`), '/t/***/channel/lobby');
  assert.equal(redactPath(`/api&token=${SECRET}&x=1`), '/api&token=***&x=1');
});

test('no form of a token in a WebSocket URL reaches the log; each refusal is logged with its reason', { timeout: 60_000 }, async (t) => {
  const log = capturedLogger();
  const { ws } = await startServer(t, { tokens, logger: log.logger });
  const refused: { path: string; status: number; body: string }[] = [];
  for (const path of MISTYPED) refused.push({ path, ...(await refusedHandshake(ws(path))) });
  // The correct forms connect; their paths are logged too.
  for (const path of [`/t/${SECRET}/echo`, `/echo?token=${SECRET}`]) {
    const client = await TestClient.connect(t, ws(path));
    assert.equal(await client.ask('hi'), 'hi');
    client.socket.close();
    await client.closed;
  }
  const text = log.text();
  assert.ok(!text.includes(SECRET), `the token is in the log:\n${text.split('\n').filter((line) => line.includes(SECRET)).join('\n')}`);
  const lines = log.find('handshake refused');
  assert.equal(lines.length, MISTYPED.length, 'one line per refused handshake');
  for (const [i, line] of lines.entries()) {
    const body = refused[i]?.body.trim() ?? '';
    assert.equal(line.status, refused[i]?.status);
    assert.equal(typeof line.reason, 'string', `the reason is logged: ${JSON.stringify(line)}`);
    // The same sentence the client got; where that quotes the token back, the log has it redacted.
    if (!body.includes(SECRET)) assert.equal(line.reason, body);
  }
});

test('no form of a token in an HTTP API URL reaches the log', async (t) => {
  const log = capturedLogger();
  const { http } = await startServer(t, { tokens, logger: log.logger });
  const paths = [`/kv/t/${SECRET}`, `/publish/x&token=${SECRET}`, `/kv/x&token=${SECRET}`, `/kv/%74/${SECRET}`, `/metrics/t/${SECRET}`];
  for (const path of paths) {
    const response = await fetch(http(path), { method: 'POST', body: 'x' });
    await response.arrayBuffer();
    assert.ok(response.status >= 400, `${path}: ${response.status}`);
  }
  const text = log.text();
  assert.ok(!text.includes(SECRET), `the token is in the log:\n${text}`);
  assert.ok(log.find('http request refused').length >= 3, 'refused API requests are logged');
  for (const line of log.find('http request refused')) assert.equal(typeof line.reason, 'string');
});

test('a config file that fails to parse is named by line, column and key, never by its text (it may hold a token)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resobridge-redact-'));
  const cases: [string, string, RegExp][] = [
    ['bad.yaml', `port: 8778\ntokens:\n  - name: world\n    token: x: ${SECRET}\n    allow: [api]\n`, /is not valid YAML at line 4, column \d+ \(in "token" under "tokens"\): Nested mappings/],
    ['quote.yaml', `tokens:\n  - name: world\n    token: "${SECRET}\n`, /is not valid YAML at line \d+, column \d+ .*: Missing closing "quote/],
    ['flow.yaml', `tokens: [ {name: world, token: ${SECRET} `, /is not valid YAML at line 1, column \d+ \(in "tokens"\)/],
    ['bad.json', `{"tokens": [{"name": "world", "token": "${SECRET}" x}]}`, /is not valid JSON at line 1, column \d+ \(in "token"\)/],
    ['word.json', `{"tokens": ${SECRET}}`, /is not valid JSON: unexpected text there/],
  ];
  for (const [name, text, expected] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    assert.throws(
      () => loadConfig({ file }),
      (error: unknown) => {
        const message = (error as Error).message;
        assert.ok(error instanceof ConfigError, message);
        assert.ok(!message.includes(SECRET.slice(0, 10)), `${name}: the message quotes the file: ${message}`);
        assert.match(message, expected);
        return true;
      },
    );
  }
  assert.throws(
    () => loadConfig({ env: { RESOBRIDGE_TOKENS: `[{"name": "world", "token": ${SECRET}}]` } }),
    (error: unknown) => !(error as Error).message.includes(SECRET.slice(0, 10)) && /RESOBRIDGE_TOKENS must be .*not valid JSON/.test((error as Error).message),
  );
});

test('the server\'s own advice in a logged reason is left as written', async (t) => {
  const log = capturedLogger();
  const { http, ws } = await startServer(t, { tokens, logger: log.logger });
  await (await fetch(http('/kv/x'))).arrayBuffer();
  await refusedHandshake(ws('/echo'));
  assert.match(String(log.find('http request refused')[0]?.reason), /Send Authorization: Bearer YOUR-TOKEN \(or \?token=\)/);
  assert.match(String(log.find('handshake refused')[0]?.reason), /Add \?token=YOUR-TOKEN to the URL/);
});
