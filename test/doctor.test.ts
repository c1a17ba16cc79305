import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runDoctor, type Check, type DoctorReport } from '../src/index.js';
import { binaryWebSocket, closedPort, garbageTcp, plainHttp, quietWebSocket, selfSignedWss, silentTcp, socketIo } from './fixtures.js';
import { capturedLogger, runCli, startServer } from './helpers.js';

const fast = { stepTimeoutMs: 500, replyWindowMs: 300 };

function check(report: DoctorReport, id: string): Check {
  const found = report.checks.find((c) => c.id === id);
  assert.ok(found, `no ${id} check in: ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** The first failing check: the verdict. */
function verdict(report: DoctorReport): Check | undefined {
  return report.checks.find((c) => c.status === 'fail');
}

test('a healthy resobridge gets an all-pass report', async (t) => {
  const { ws } = await startServer(t);
  const report = await runDoctor(ws('/echo'));
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.checks.map((c) => [c.id, c.status]),
    [['url', 'pass'], ['scheme', 'pass'], ['resolve', 'pass'], ['tcp', 'pass'], ['http', 'pass'], ['upgrade', 'pass'], ['roundtrip', 'pass'], ['idle', 'skip'], ['text', 'pass']],
  );
  assert.match(check(report, 'roundtrip').message, /sent "ping", got "ping"/);
  assert.match(check(report, 'resolve').note ?? '', /this computer only/);
  const text = formatReport(report);
  assert.match(text, /^✓ Round trip/m);
  assert.match(text, /All checks passed/);
  assert.match(text, /Dash → Debug → Web Hosts/);
});

test('the doctor ends its connection with a close handshake: the server logs 1000 from the client, not 1006', async (t) => {
  const { logger, lines } = capturedLogger();
  const { ws, server } = await startServer(t, { logger });
  const report = await runDoctor(ws('/echo'));
  assert.equal(report.ok, true);
  await server.close();
  const gone = lines.filter((line) => line.msg === 'disconnected');
  assert.equal(gone.length, 2, 'the HTTP check and the round trip each open a connection');
  for (const line of gone) assert.deepEqual([line.code, line.closedBy], [1000, 'client']);
});

test('http:// is a failure that names the ws:// URL, and the rest is still checked', async (t) => {
  const { http } = await startServer(t);
  const report = await runDoctor(http('/api'));
  assert.equal(verdict(report)?.id, 'scheme');
  assert.match(check(report, 'scheme').fix ?? '', /Use ws:\/\/127\.0\.0\.1:\d+\/api/);
  assert.equal(check(report, 'roundtrip').message.includes('got "pong"'), true);
});

test('a URL without a scheme, and one that cannot be parsed', async () => {
  const bare = await runDoctor('localhost:8778/echo');
  assert.match(verdict(bare)?.fix ?? '', /starting with ws:\/\/.*ws:\/\/localhost:8778\/echo/);
  const broken = await runDoctor('ws://exa mple.com/');
  assert.equal(verdict(broken)?.id, 'url');
});

test('a name that does not resolve', async () => {
  const report = await runDoctor('ws://no-such-host.invalid:8778/echo', fast);
  assert.equal(verdict(report)?.id, 'resolve');
  assert.match(verdict(report)?.message ?? '', /does not resolve/);
});

test('nothing listening: refused, "nothing is listening"', async () => {
  const port = await closedPort();
  const report = await runDoctor(`ws://127.0.0.1:${port}/echo`, fast);
  assert.equal(verdict(report)?.id, 'tcp');
  assert.match(verdict(report)?.message ?? '', new RegExp(`nothing is listening on 127\\.0\\.0\\.1:${port}`));
  assert.equal(report.checks.at(-1)?.id, 'tcp', 'stops there');
});

test('a raw TCP server that says nothing: a plain socket server (and no hang)', async (t) => {
  const port = await silentTcp(t);
  const report = await runDoctor(`ws://127.0.0.1:${port}/`, fast);
  assert.equal(verdict(report)?.id, 'http');
  assert.match(verdict(report)?.message ?? '', /accepts connections but says nothing for 500 ms/);
  assert.match(verdict(report)?.fix ?? '', /plain socket server, not a WebSocket server/);
});

test('a raw TCP server that answers with non-HTTP bytes: a plain socket server', async (t) => {
  const port = await garbageTcp(t);
  const report = await runDoctor(`ws://127.0.0.1:${port}/`, fast);
  assert.equal(verdict(report)?.id, 'http');
  assert.match(verdict(report)?.message ?? '', /not HTTP: "WELCOME TO THE GAME SERVER/);
});

test('a plain HTTP server, 200 and 404: not a WebSocket server', async (t) => {
  const ok = await runDoctor(`ws://127.0.0.1:${await plainHttp(t, 200)}/`, fast);
  assert.equal(verdict(ok)?.id, 'upgrade');
  assert.match(verdict(ok)?.message ?? '', /HTTP 200: a plain web server answers here, not a WebSocket server; the server says: My homepage/);
  const missing = await runDoctor(`ws://127.0.0.1:${await plainHttp(t, 404)}/ws`, fast);
  assert.equal(verdict(missing)?.id, 'upgrade');
  assert.match(verdict(missing)?.message ?? '', /HTTP 404: nothing at \/ws takes WebSocket connections/);
});

test('a Socket.IO server is named as such', async (t) => {
  const port = await socketIo(t);
  const report = await runDoctor(`ws://127.0.0.1:${port}/`, fast);
  assert.equal(verdict(report)?.id, 'upgrade');
  assert.equal(verdict(report)?.message, 'this is a Socket.IO server');
  assert.match(verdict(report)?.fix ?? '', /cannot talk to Socket\.IO/);
});

test('a server that sends a binary frame fails "Text only"', async (t) => {
  const port = await binaryWebSocket(t);
  const report = await runDoctor(`ws://127.0.0.1:${port}/`, fast);
  assert.equal(check(report, 'upgrade').status, 'pass');
  assert.equal(check(report, 'text').status, 'fail');
  assert.match(check(report, 'text').message, /binary frame.*Resonite cannot receive binary/);
  assert.equal(report.ok, false);
});

test('wss with a self-signed certificate: Resonite will refuse it', async (t) => {
  const port = await selfSignedWss(t);
  const report = await runDoctor(`wss://localhost:${port}/`, fast);
  assert.equal(verdict(report)?.id, 'tls');
  assert.match(verdict(report)?.message ?? '', /self-signed: Resonite will refuse to connect/);
  assert.match(verdict(report)?.fix ?? '', /public authority/);
  assert.equal(check(report, 'roundtrip').status, 'pass', 'the rest is checked anyway');
});

test('wss:// against a plain ws server: not a TLS server', async (t) => {
  const { port } = await startServer(t);
  const report = await runDoctor(`wss://127.0.0.1:${port}/echo`, fast);
  assert.equal(verdict(report)?.id, 'tls');
  assert.match(verdict(report)?.fix ?? '', /use ws:\/\/ instead of wss:\/\//);
});

test('--idle: pings keep a quiet connection alive; a silent or closing server fails', async (t) => {
  // The silence limit is twenty ping intervals, so a loaded machine's stalls cannot fake a silent server.
  const idle = { durationMs: 1_200, silenceLimitMs: 1_000 };
  const { ws } = await startServer(t, { pingIntervalMs: 50 });
  const healthy = await runDoctor(ws('/echo'), { ...fast, idle });
  assert.equal(check(healthy, 'idle').status, 'pass');
  assert.match(check(healthy, 'idle').message, /stayed up for [\d.]+ s \(\d+ pings/);

  const silent = await runDoctor(`ws://127.0.0.1:${await quietWebSocket(t)}/`, { ...fast, idle });
  assert.equal(check(silent, 'idle').status, 'fail');
  assert.match(check(silent, 'idle').message, /sent nothing for .* Resonite drops a connection after 60 s/);

  const closing = await runDoctor(`ws://127.0.0.1:${await quietWebSocket(t, 150)}/`, { ...fast, idle });
  assert.equal(check(closing, 'idle').status, 'fail');
  assert.match(check(closing, 'idle').message, /closed a quiet connection after .* \(code 1000\)/);
});

test('the CLI prints the report, exits 0 when healthy, 1 on a failure, 2 on bad usage; --json too', async (t) => {
  const { ws } = await startServer(t);
  const healthy = await runCli(['doctor', ws('/echo')]);
  assert.equal(healthy.code, 0);
  assert.match(healthy.stdout, /^✓ WebSocket upgrade/m);
  const json = await runCli(['doctor', '--json', ws('/nope')]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as DoctorReport;
  assert.equal(report.ok, false);
  assert.equal(report.checks.find((c) => c.status === 'fail')?.id, 'upgrade');
  const usage = await runCli(['doctor']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^resobridge: Missing required argument 'url'\. See: npm run doctor -- --help\n$/);
});

test("a refused handshake shows the server's own explanation, quoted once", async (t) => {
  const { ws } = await startServer(t);
  const report = await runDoctor(ws('/channel/bad%20name'), fast);
  const message = verdict(report)?.message ?? '';
  assert.match(message, /^HTTP 400 instead of 101; the server says: "bad name" is not a valid channel name/);
  assert.doesNotMatch(message, /""/);
});

test('checking wss:// by IP address prints no TLS DeprecationWarning (no IP address as the SNI name)', async (t) => {
  const port = await selfSignedWss(t);
  const { code, stdout, stderr } = await runCli(['doctor', `wss://127.0.0.1:${port}/`]);
  assert.equal(code, 1);
  assert.match(stdout, /✗ TLS/);
  assert.doesNotMatch(stderr, /DeprecationWarning/);
});
