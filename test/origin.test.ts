/** Web pages cannot use the server unless allowed: Origin and (on an open loopback server) Host are checked. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { ConfigError, createServer, loadConfig } from '../src/index.js';
import { capturedLogger, refusedHandshake, startServer, TestClient } from './helpers.js';

const PAGE = 'http://evil.example';

/** A plain HTTP request with any Host header (fetch may not set it). */
function httpRequest(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

test('a WebSocket with a foreign Origin is refused with 403 and the reason, in the body and the log', async (t) => {
  const log = capturedLogger();
  const { ws } = await startServer(t, { logger: log.logger });
  for (const path of ['/api', '/echo', '/channel/lobby']) {
    const refused = await refusedHandshake(ws(path), { Origin: PAGE });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /Web pages may not use this server: this request came from a page at http:\/\/evil\.example\. .*allowedOrigins/);
  }
  const lines = log.find('handshake refused');
  assert.equal(lines.length, 3);
  assert.match(String(lines[0]?.reason), /Web pages may not use this server/);
});

test('clients without an Origin (Resonite) and pages of the server itself still connect', async (t) => {
  const { ws, port } = await startServer(t);
  const resonite = await TestClient.connect(t, ws('/api'));
  assert.equal(await resonite.ask('ping'), 'pong');
  const ownPage = await TestClient.connect(t, ws('/echo'), { headers: { Origin: `http://127.0.0.1:${port}` } });
  assert.equal(await ownPage.ask('hi'), 'hi');
});

test('an allowed origin connects; others stay refused', async (t) => {
  const { ws } = await startServer(t, { allowedOrigins: ['https://my-page.example.org', 'http://localhost:5173'] });
  const page = await TestClient.connect(t, ws('/api'), { headers: { Origin: 'http://localhost:5173' } });
  assert.equal(await page.ask('ping'), 'pong');
  assert.equal((await refusedHandshake(ws('/api'), { Origin: 'http://localhost:5174' })).status, 403);
});

test('an open loopback server refuses requests for a host name that is not loopback (DNS rebinding)', async (t) => {
  const log = capturedLogger();
  const { ws, port } = await startServer(t, { logger: log.logger });
  const rebound = await refusedHandshake(ws('/api'), { Host: `rebound.example:${port}`, Origin: `http://rebound.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.match(rebound.body, /answers only requests for localhost or 127\.0\.0\.1, not for "rebound\.example:\d+"/);
  const read = await httpRequest(port, '/kv/secret', { headers: { Host: `rebound.example:${port}` } });
  assert.equal(read.status, 403);
  const metrics = await httpRequest(port, '/metrics', { headers: { Host: `rebound.example:${port}` } });
  assert.equal(metrics.status, 403);
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
    assert.equal((await httpRequest(port, '/kv/secret', { headers: { Host: host } })).status, 404, host);
  }
  assert.ok(log.find('http request refused').some((line) => /not for "rebound\.example/.test(String(line.reason))));
});

test('with tokens the host name is not checked (a rebound page has no token)', async (t) => {
  const token = 'world-secret-0123456789';
  const { ws, port } = await startServer(t, { tokens: [{ name: 'world', token, allow: ['api'] }] });
  const client = await TestClient.connect(t, ws(`/api?token=${token}`), { headers: { Host: `my-server.example:${port}` } });
  assert.equal(await client.ask('ping'), 'pong');
});

test('HTTP API: a foreign Origin cannot publish, read or write keys; the log says why', async (t) => {
  const log = capturedLogger();
  const { ws, port, server } = await startServer(t, { logger: log.logger });
  await server.store().set('secret', 'hidden');
  const listener = await TestClient.connect(t, ws('/channel/x'));
  const form = await httpRequest(port, '/publish/x', {
    method: 'POST',
    headers: { Origin: PAGE, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'text=from-a-page',
  });
  assert.equal(form.status, 403);
  assert.match(form.body, /Web pages may not use this server/);
  assert.equal((await httpRequest(port, '/kv/secret', { headers: { Origin: PAGE } })).status, 403);
  assert.equal((await httpRequest(port, '/kv/secret', { method: 'PUT', headers: { Origin: PAGE }, body: 'changed' })).status, 403);
  assert.equal(await server.store().get('secret'), 'hidden');
  // Nothing from the page reached the channel: the next message is the one sent without an Origin.
  assert.equal((await httpRequest(port, '/publish/x', { method: 'POST', body: 'from-curl' })).status, 200);
  assert.equal(await listener.next(), 'from-curl');
  const refused = log.find('http request refused');
  assert.equal(refused.length, 3);
  assert.deepEqual(refused.map((line) => [line.method, line.path, line.status]), [['POST', '/publish/x', 403], ['GET', '/kv/secret', 403], ['PUT', '/kv/secret', 403]]);
});

test('HTTP API: an allowed origin gets CORS headers and its preflight answered', async (t) => {
  const origin = 'https://my-page.example.org';
  const { port, server } = await startServer(t, { allowedOrigins: [origin] });
  await server.store().set('score', '42');
  const read = await httpRequest(port, '/kv/score', { headers: { Origin: origin } });
  assert.equal(read.status, 200);
  assert.equal(read.body, '42');
  assert.equal(read.headers['access-control-allow-origin'], origin);
  const preflight = await httpRequest(port, '/kv/score', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
  assert.equal(preflight.status, 204);
  assert.match(String(preflight.headers['access-control-allow-methods']), /PUT/);
  assert.equal((await httpRequest(port, '/kv/score', { method: 'OPTIONS', headers: { Origin: PAGE } })).status, 403);
});

test('allowedOrigins: a list in the file, comma-separated as a flag; anything but an origin is refused', () => {
  assert.deepEqual(loadConfig({ flags: { allowedOrigins: 'https://a.example, http://localhost:5173' } }).allowedOrigins, ['https://a.example', 'http://localhost:5173']);
  assert.throws(() => loadConfig({ flags: { allowedOrigins: 'https://a.example/page' } }), (error: unknown) => error instanceof ConfigError && /--allowed-origins must be a list of web origins/.test(error.message));
  assert.throws(() => createServer({ allowedOrigins: ['*'] }), /"\*" is not an origin/);
});
