/** Secrets in bridge settings (an MQTT password, webhook headers) never appear: not in the log, /healthz, /metrics, the dashboard or an error. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createServer } from '../src/index.js';
import { capturedLogger, runCli, startServer, TestClient } from './helpers.js';
import { skipUnless } from './services.js';

const skip = await skipUnless('Mosquitto', 1883);
const PASSWORD = 'mqtt-pw-7f3a9c1e-never-shown';
const TOKEN = 'hook-token-b81d44e2-never-shown';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), 'condition not reached within 10 s');
}

/** Answers every POST with `status`, counting them. */
async function receiver(t: TestContext, status: number) {
  let posts = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, posts: () => posts };
}

const deadLetter = () => join(mkdtempSync(join(tmpdir(), 'resobridge-dead-')), 'dead.jsonl');

test('an MQTT password from an env var and a secret webhook header appear nowhere a person or a scraper can read', { skip, timeout: 60_000 }, async (t) => {
  process.env.RB_TEST_SECRET_PASSWORD = PASSWORD;
  process.env.RB_TEST_SECRET_TOKEN = `Bearer ${TOKEN}`;
  t.after(() => {
    delete process.env.RB_TEST_SECRET_PASSWORD;
    delete process.env.RB_TEST_SECRET_TOKEN;
  });
  // One hook that answers, one that fails (so retries and the dead-letter file are logged too).
  const good = await receiver(t, 204);
  const bad = await receiver(t, 400);
  const log = capturedLogger('debug');
  const headers = { Authorization: { env: 'RB_TEST_SECRET_TOKEN' } };
  const { ws, http, port, server } = await startServer(t, {
    logger: log.logger,
    dashboard: true,
    bridges: [
      // Mosquitto here allows anyone: it takes the login, or refuses it. Either way the status is settled.
      { type: 'mqtt', name: 'home', url: 'mqtt://127.0.0.1:1883', username: 'resobridge', password: { env: 'RB_TEST_SECRET_PASSWORD' } },
      { type: 'webhook', name: 'good', url: good.url, channel: 'alerts', headers, body: '{"content": text}', deadLetter: deadLetter() },
      { type: 'webhook', name: 'bad', url: bad.url, channel: 'alerts', headers, deadLetter: deadLetter() },
    ],
  });
  const feed = await TestClient.connect(t, ws('/dashboard/ws'), { headers: { Origin: `http://127.0.0.1:${port}` } });
  await until(() => ['connected', 'failed'].includes(server.bridges()[0]?.state ?? ''));
  const world = await TestClient.connect(t, ws('/channel/alerts?name=Alice'));
  world.send('hello');
  await until(() => good.posts() === 1 && server.bridges()[2]?.state === 'failed');

  const seen: [string, string][] = [
    ['the log', log.text()],
    ['/healthz', await (await fetch(http('/healthz'))).text()],
    ['/metrics', await (await fetch(http('/metrics'))).text()],
    ['the banner (bridge lines)', JSON.stringify(server.bridges())],
  ];
  // The feed's messages so far (hello, state snapshots, log batches), up to a state that shows all three bridges.
  const messages: string[] = [];
  for (let i = 0; i < 50; i++) {
    const message = await feed.next();
    messages.push(message);
    const parsed = JSON.parse(message) as { type: string; bridges?: { state: string }[] };
    if (parsed.type === 'state' && parsed.bridges?.[2]?.state === 'failed') break;
  }
  seen.push(['the dashboard feed', messages.join('\n')]);
  assert.match(seen[1]?.[1] ?? '', /"name":"home"/);
  assert.match(messages.join('\n'), /"name":"bad","type":"webhook","state":"failed"/);
  for (const [where, text] of seen) {
    assert.ok(!text.includes(PASSWORD), `the MQTT password is in ${where}`);
    assert.ok(!text.includes(TOKEN), `the webhook token is in ${where}`);
  }
});

test('a failing config never quotes a secret: not a plain one in the file, not one read from the environment', { timeout: 120_000 }, async () => {
  // Plain secrets in a setting that is wrong elsewhere.
  for (const bridge of [
    { type: 'mqtt', url: 'mqtt://127.0.0.1:1883', password: PASSWORD, qos: 7 },
    { type: 'webhook', url: 'http://127.0.0.1:1/x', channel: 'c', headers: { Authorization: `Bearer ${TOKEN}` }, attempts: 0 },
  ]) {
    assert.throws(
      () => createServer({ bridges: [bridge] as never }),
      (error: Error) => !error.message.includes(PASSWORD) && !error.message.includes(TOKEN) && /option "bridges"/.test(error.message),
    );
  }
  // Through the CLI: a bad setting, and a bad expression, next to secrets from the file and from the environment.
  const folder = mkdtempSync(join(tmpdir(), 'resobridge-secrets-'));
  const expected: Record<string, RegExp> = {
    'bad-setting.yaml': /^resobridge: Invalid setting: bridges in bad-setting\.yaml must be .*\(got a value not shown here, as it holds secrets\); \[0\]\.qos: /,
    'bad-expression.yaml': /^resobridge: bridge "discord": body: the JSONata expression has an error at character \d+: /,
  };
  const files = {
    'bad-setting.yaml': `bridges:\n  - type: mqtt\n    url: mqtt://127.0.0.1:1883\n    password: ${PASSWORD}\n    qos: 7\n`,
    'bad-expression.yaml':
      'bridges:\n  - type: webhook\n    name: discord\n    url: { env: RB_TEST_HOOK }\n    channel: alerts\n' +
      '    headers: { Authorization: { env: RB_TEST_TOKEN } }\n    body: \'{"content": text\'\n',
  };
  for (const [name, text] of Object.entries(files)) {
    const path = join(folder, name);
    writeFileSync(path, text);
    const { code, stdout, stderr } = await runCli(['serve', '--config', path], { RB_TEST_HOOK: `http://127.0.0.1:1/${TOKEN}`, RB_TEST_TOKEN: PASSWORD });
    assert.equal(code, 2, `${name}: ${stderr}`);
    assert.match(stderr, expected[name] ?? /^$/, 'the bridge, the setting and (for an expression) the position');
    assert.ok(!`${stdout}${stderr}`.includes(PASSWORD) && !`${stdout}${stderr}`.includes(TOKEN), `${name}: a secret is in the output: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});
