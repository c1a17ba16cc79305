/** Webhook with a body mapping (an app's own JSON shape, e.g. Discord's), secret headers and a secret URL. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createServer } from '../src/index.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver that records each request (always 204, as Discord answers a webhook). */
async function receiver(t: TestContext) {
  const requests: Received[] = [];
  let waiting: (() => void) | undefined;
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(204).end();
      waiting?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    async received(count: number) {
      while (requests.length < count) await new Promise<void>((resolve) => (waiting = resolve));
      return requests;
    },
  };
}

const deadLetter = () => join(mkdtempSync(join(tmpdir(), 'resobridge-dead-')), 'dead.jsonl');

test('webhook body mapping: Discord-shaped JSON, a secret header, a secret URL shown as its origin; a failing mapping drops that message only', { timeout: 30_000 }, async (t) => {
  const hook = await receiver(t);
  process.env.RB_TEST_HOOK_URL = `${hook.base}/api/webhooks/123/very-secret-path-token`;
  process.env.RB_TEST_HOOK_TOKEN = 'Bearer header-secret-value';
  t.after(() => {
    delete process.env.RB_TEST_HOOK_URL;
    delete process.env.RB_TEST_HOOK_TOKEN;
  });
  const log = capturedLogger('warn');
  const { ws, server } = await startServer(t, {
    logger: log.logger,
    bridges: [
      {
        type: 'webhook',
        name: 'discord',
        url: { env: 'RB_TEST_HOOK_URL' },
        headers: { Authorization: { env: 'RB_TEST_HOOK_TOKEN' }, 'X-Plain': 'plain' },
        channel: 'alerts',
        watch: ['score'],
        // Chat lines are posted as Discord messages; "boom" fails; score changes are left out.
        body: 'type = "msg" ? (text = "boom" ? $error("refused") : {"content": from & ": " & text}) : undefined',
        deadLetter: deadLetter(),
      },
      { type: 'webhook', name: 'text', url: `${hook.base}/text`, channel: 'notes', body: '"note: " & text', deadLetter: deadLetter() },
    ],
  });
  assert.equal(server.bridges()[0]?.detail, `POST to ${hook.base}/…`, 'a secret URL is shown as its origin only');
  const world = await TestClient.connect(t, ws('/channel/alerts?name=Alice'));
  const api = await TestClient.connect(t, ws('/api'));
  world.send('hello | there');
  assert.equal(await api.ask('set|score|42'), 'ok|set|score');
  world.send('boom');
  world.send('after');
  const notes = await TestClient.connect(t, ws('/channel/notes?name=Bob'));
  notes.send('plain text');
  const requests = await hook.received(3);
  const posted = requests.filter((request) => request.path !== '/text');
  assert.deepEqual(posted.map((request) => JSON.parse(request.body) as unknown), [{ content: 'Alice: hello | there' }, { content: 'Alice: after' }]);
  for (const request of posted) {
    assert.equal(request.path, '/api/webhooks/123/very-secret-path-token');
    assert.equal(request.headers.authorization, 'Bearer header-secret-value');
    assert.equal(request.headers['x-plain'], 'plain');
    assert.equal(request.headers['content-type'], 'application/json');
  }
  const text = requests.find((request) => request.path === '/text');
  assert.equal(text?.body, 'note: plain text');
  assert.equal(text?.headers['content-type'], 'text/plain; charset=utf-8', 'a string result is posted as text');
  assert.equal(server.bridges()[0]?.state, 'connected');
  const failed = log.find('a webhook message dropped: its mapping failed');
  assert.equal(failed.length, 1);
  assert.match(String(failed[0]?.err), /bridge "discord": body: refused/);
  assert.doesNotMatch(log.text(), /very-secret-path-token|header-secret-value/);
});

test('webhook: a bad body expression, a bad header name or an unset secret stops start-up naming the bridge and the setting', () => {
  const base = { type: 'webhook' as const, name: 'hook', url: 'http://127.0.0.1:1/x', channel: 'c' };
  assert.throws(() => createServer({ bridges: [{ ...base, body: '{"content": text' }] }), /^MappingError: bridge "hook": body: the JSONata expression has an error at character \d+/);
  assert.throws(() => createServer({ bridges: [{ ...base, headers: { 'Bad Name': 'x' } }] }), /option "bridges" .*\[0\]\.headers\.Bad Name: a header name is letters, digits and dashes/);
  assert.throws(() => createServer({ bridges: [{ ...base, headers: { Authorization: { env: 'RB_TEST_UNSET_VARIABLE' } } }] }), /bridge "hook": headers\.Authorization: the environment variable RB_TEST_UNSET_VARIABLE is not set/);
  process.env.RB_TEST_NOT_A_URL = 'ftp://secret-looking-value';
  try {
    assert.throws(() => createServer({ bridges: [{ ...base, url: { env: 'RB_TEST_NOT_A_URL' } }] }), (error: Error) => {
      assert.match(error.message, /bridge "hook": url: the secret's value is not a URL starting with http:\/\/ or https:\/\//);
      assert.doesNotMatch(error.message, /secret-looking-value/);
      return true;
    });
  } finally {
    delete process.env.RB_TEST_NOT_A_URL;
  }
});
