import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { commandLine, startedAs } from '../src/util/how-started.js';
import { runCli, spawnCli, TestClient, waitForOutput } from './helpers.js';

/** The banner is for people: the CLI prints it on a terminal, or with logFormat pretty (tests read a pipe). */
const PRETTY = { RESOBRIDGE_LOG_FORMAT: 'pretty' };

test('serve prints the URLs to paste into Resonite, serves them, and stops gracefully on SIGTERM', async (t) => {
  const child = spawnCli(['serve', '--port', '0'], { RESOBRIDGE_CLOSE_LINGER_MS: '10', ...PRETTY });
  t.after(() => child.kill('SIGKILL'));
  const { output: banner, match } = await waitForOutput(child, /ws:\/\/localhost:(\d+)\/echo[\s\S]*Stop: Ctrl\+C/);
  const port = match[1];
  assert.match(banner, new RegExp(`ws://localhost:${port}/channel/<name>`));
  assert.match(banner, /e\.g\. ws:\/\/localhost:\d+\/channel\/lobby\?presence=1/);
  assert.match(banner, /"localhost" means the HandlingUser's own machine/);
  assert.match(banner, new RegExp(`Dashboard: http://localhost:${port}/  \\(open it in a browser on this computer\\)`));

  const client = await TestClient.connect(t, `ws://localhost:${port}/echo`);
  client.send('ping from test');
  assert.equal(await client.next(), 'ping from test');

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  assert.equal(await client.next(), 'server|shutting down');
  assert.equal((await client.closed).code, 1001);
  assert.deepEqual(await exited, [0, null]);
});

test('bound to 0.0.0.0, the banner also lists addresses for other machines', async (t) => {
  const child = spawnCli(['serve', '--port', '0', '--host', '0.0.0.0', '--allow-anonymous'], PRETTY);
  t.after(() => child.kill('SIGKILL'));
  const { output: banner } = await waitForOutput(child, /Stop: Ctrl\+C/);
  assert.match(banner, /is running on 0\.0\.0\.0:\d+/);
  assert.match(banner, /ws:\/\/localhost:\d+\/echo/);
  assert.doesNotMatch(banner, /Only this computer can connect/);
  assert.match(banner, /The dashboard is off: .* --dashboard-token/);
});

test('--no-dashboard turns the dashboard off; --dashboard-token makes it ask for the token', async (t) => {
  const off = spawnCli(['serve', '--port', '0', '--no-dashboard'], PRETTY);
  t.after(() => off.kill('SIGKILL'));
  const { output: plain } = await waitForOutput(off, /Stop: Ctrl\+C/);
  assert.doesNotMatch(plain, /^Dashboard:|dashboard is/m);
  const token = spawnCli(['serve', '--port', '0', '--host', '0.0.0.0', '--allow-anonymous', '--dashboard-token', 'a-long-enough-secret'], PRETTY);
  t.after(() => token.kill('SIGKILL'));
  const { output } = await waitForOutput(token, /Stop: Ctrl\+C/);
  assert.match(output, /Dashboard: http:\/\/localhost:\d+\/ {2}\(asks for the admin token\)/);
  const short = await runCli(['serve', '--dashboard-token', 'short']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--dashboard-token must be a token of at least 16 characters/);
  assert.doesNotMatch(short.stderr, /short/, 'the secret is not repeated');
});

test('a bad flag exits 2 with a message naming the key and the allowed values', async () => {
  const { code, stderr, stdout } = await runCli(['serve', '--port', 'eighty']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.equal(stderr, 'resobridge: Invalid setting: --port must be a whole number from 0 to 65535 (got "eighty").\n');
});

test('a bad env var or config file exits 2 with a message naming it', async () => {
  const env = await runCli(['serve'], { RESOBRIDGE_MAX_MISSED_PONGS: '0' });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /RESOBRIDGE_MAX_MISSED_PONGS must be a whole number from 1 to 100 \(got "0"\)/);
  const file = await runCli(['serve', '--config', '/no/such.yaml']);
  assert.equal(file.code, 2);
  assert.match(file.stderr, /Cannot read config file \/no\/such\.yaml: no such file/);
  const unknown = await runCli(['serve', '--prot', '1']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, 'resobridge: Unknown option --prot. Did you mean --port? See: npm start -- --help\n');
});

test('a port in use exits 1 with a message that says which port and how to pick another', async (t) => {
  const blocker = createNetServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const { port } = blocker.address() as { port: number };
  const { code, stderr } = await runCli(['serve', '--port', String(port)]);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`Port ${port} is already in use on 127\\.0\\.0\\.1`));
  assert.match(stderr, new RegExp(`--port ${port + 1} \\(or RESOBRIDGE_PORT=${port + 1}`));
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});

test('the banner lists the bridges', async (t) => {
  const child = spawnCli(['serve', '--port', '0', '--exec', '/time=date'], PRETTY);
  t.after(() => child.kill('SIGKILL'));
  const { output } = await waitForOutput(child, /Stop: Ctrl\+C/);
  assert.match(output, /Bridges:\n {2}exec \/time: running, "date" for each connection/);
  assert.match(output, /ws:\/\/localhost:\d+\/time/);
});

test('in JSON log mode (logs to a file or collector), stdout holds only JSON lines; SIGTERM does not mention Ctrl+C', async (t) => {
  const child = spawnCli(['serve', '--port', '0']);
  t.after(() => child.kill('SIGKILL'));
  const { output } = await waitForOutput(child, /"msg":"listening"/);
  let rest = '';
  child.stdout.on('data', (chunk) => (rest += String(chunk)));
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
  const lines = (output + rest).trim().split('\n');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  const records = lines.map((line) => JSON.parse(line) as { msg: string; urls?: string[] });
  assert.match(records.find((record) => record.msg === 'listening')?.urls?.join(' ') ?? '', /ws:\/\/localhost:\d+\/api/);
  assert.ok(records.some((record) => record.msg === 'SIGTERM: shutting down'));
  assert.doesNotMatch(output + rest, /Ctrl\+C again/);
});

test('serve --help: no empty defaults, names /api, and shows both ways onto the network', async () => {
  const { code, stdout } = await runCli(['serve', '--help']);
  assert.equal(code, 0);
  assert.doesNotMatch(stdout, /default: ;/);
  assert.match(stdout, /--tokens <json> +access tokens .*\(env RESOBRIDGE_TOKENS\)/);
  assert.match(stdout, /\/api \(command mode/);
  assert.match(stdout, /npm start -- --port 9000 --host 0\.0\.0\.0 --allow-anonymous\n/);
  assert.match(stdout, /npm run token -- --save resobridge\.yaml && npm start -- --port 9000 --host 0\.0\.0\.0 --config resobridge\.yaml\n/);
});

test('resobridge token --save adds the hash to a config file, keeping what is there', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'resobridge-save-')), 'mine.yaml');
  writeFileSync(file, '# my settings\nport: 9001\ntokens:\n  - name: old\n    sha256: ' + '0a'.repeat(32) + '\n    allow: [echo]\n');
  const { code, stdout } = await runCli(['token', '--name', 'world-c', '--save', file]);
  assert.equal(code, 0);
  const token = /^ {2}(\S+)$/m.exec(stdout)?.[1] ?? '';
  const saved = readFileSync(file, 'utf8');
  assert.ok(!saved.includes(token), 'only the hash is saved');
  assert.match(saved, /^# my settings\nport: 9001\n/);
  const config = loadConfig({ file });
  assert.deepEqual(config.tokens.map((spec) => spec.name), ['old', 'world-c']);
  assert.match(stdout, new RegExp(`Start the server with it: npm start -- --config ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('advice shows commands in the form that works where resobridge runs: a clone, an install, a library', () => {
  const url = 'ws://localhost:8778/echo';
  assert.equal(commandLine('doctor', [url], 'checkout'), `npm run doctor -- ${url}`);
  assert.equal(commandLine('doctor', [url], 'installed'), `resobridge doctor ${url}`);
  assert.equal(commandLine('doctor', [url], 'library'), `npx resobridge doctor ${url}`);
  assert.equal(commandLine('serve', ['--host', '0.0.0.0'], 'checkout'), 'npm start -- --host 0.0.0.0');
  assert.equal(commandLine('serve', [], 'checkout'), 'npm start');
  assert.equal(commandLine('client', ['--send', 'set|score|42'], 'installed'), "resobridge client --send 'set|score|42'");
  assert.equal(startedAs(), 'checkout', 'the tests run in a clone');
});
