import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { test } from 'node:test';
import { runCli, spawnCli, TestClient, waitForOutput } from './helpers.js';

test('serve prints the URLs to paste into Resonite, serves them, and stops gracefully on SIGTERM', async (t) => {
  const child = spawnCli(['serve', '--port', '0'], { RESOBRIDGE_CLOSE_LINGER_MS: '10' });
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
  const child = spawnCli(['serve', '--port', '0', '--host', '0.0.0.0', '--allow-anonymous']);
  t.after(() => child.kill('SIGKILL'));
  const { output: banner } = await waitForOutput(child, /Stop: Ctrl\+C/);
  assert.match(banner, /is running on 0\.0\.0\.0:\d+/);
  assert.match(banner, /ws:\/\/localhost:\d+\/echo/);
  assert.doesNotMatch(banner, /Only this computer can connect/);
  assert.match(banner, /The dashboard is off: .* --dashboard-token/);
});

test('--no-dashboard turns the dashboard off; --dashboard-token makes it ask for the token', async (t) => {
  const off = spawnCli(['serve', '--port', '0', '--no-dashboard']);
  t.after(() => off.kill('SIGKILL'));
  const { output: plain } = await waitForOutput(off, /Stop: Ctrl\+C/);
  assert.doesNotMatch(plain, /dashboard/i);
  const token = spawnCli(['serve', '--port', '0', '--host', '0.0.0.0', '--allow-anonymous', '--dashboard-token', 'a-long-enough-secret']);
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
  assert.match(unknown.stderr, /unknown option '--prot'[\s\S]*Did you mean --port\?/);
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
  const child = spawnCli(['serve', '--port', '0', '--exec', '/time=date']);
  t.after(() => child.kill('SIGKILL'));
  const { output } = await waitForOutput(child, /Stop: Ctrl\+C/);
  assert.match(output, /Bridges:\n {2}exec \/time: running, "date" for each connection/);
  assert.match(output, /ws:\/\/localhost:\d+\/time/);
});
