import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, TestClient } from './helpers.js';

test('a plain GET of a WebSocket path answers 426 with a page that says to use ws://', async (t) => {
  const { http, port } = await startServer(t);
  const html = await fetch(http('/channel/lobby?presence=1'), { headers: { accept: 'text/html,*/*' } });
  assert.equal(html.status, 426);
  assert.equal(html.headers.get('upgrade'), 'websocket');
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  const page = await html.text();
  assert.match(page, new RegExp(`Put ws://127\\.0\\.0\\.1:${port}/channel/lobby\\?presence=1 \\(starting with ws://`));
  assert.match(page, /<code>ws:\/\/127\.0\.0\.1:\d+\/echo<\/code>/);

  const text = await fetch(http('/echo'));
  assert.equal(text.status, 426);
  assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
  const body = await text.text();
  assert.match(body, /This is a WebSocket address/);
  assert.match(body, new RegExp(`ws://127\\.0\\.0\\.1:${port}/channel/<name>`));
});

test('GET /healthz reports status, uptime, connections and channels as JSON', async (t) => {
  const { http, ws } = await startServer(t);
  await TestClient.connect(t, ws('/channel/a'));
  await TestClient.connect(t, ws('/channel/b'));
  await TestClient.connect(t, ws('/echo'));
  const response = await fetch(http('/healthz'));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const health = (await response.json()) as Record<string, unknown>;
  assert.equal(health.status, 'ok');
  assert.equal(health.connections, 3);
  assert.equal(health.channels, 2);
  assert.equal(typeof health.uptimeSeconds, 'number');
  assert.equal(typeof health.version, 'string');
});

test('an unknown path answers 404 with the list of endpoints', async (t) => {
  const { http } = await startServer(t);
  const response = await fetch(http('/nope'));
  assert.equal(response.status, 404);
  const body = await response.text();
  assert.match(body, /no WebSocket endpoint at \/nope/);
  assert.match(body, /ws:\/\/127\.0\.0\.1:\d+\/echo/);
  assert.match(body, /ws:\/\/127\.0\.0\.1:\d+\/channel\/<name>/);
});

test('the root page says the server runs and lists the URLs; other methods get 405', async (t) => {
  const { http } = await startServer(t);
  const root = await fetch(http('/'));
  assert.equal(root.status, 200);
  assert.match(await root.text(), /resobridge is running/);
  const post = await fetch(http('/echo'), { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('the ws:// page gives an example only where it adds one, never the same URL again', async (t) => {
  const { http, port } = await startServer(t);
  const body = await (await fetch(http('/echo'))).text();
  const base = `ws://127.0.0.1:${port}`;
  assert.match(body, new RegExp(`^  ${base}/echo  [^\\n(]+$`, 'm'));
  assert.match(body, new RegExp(`^  ${base}/channel/<name>  .*\\(e\\.g\\. ${base}/channel/lobby`, 'm'));
  const page = await (await fetch(http('/echo'), { headers: { accept: 'text/html' } })).text();
  assert.doesNotMatch(page, new RegExp(`e\\.g\\. <code>${base}/echo</code>`));
  assert.match(page, /e\.g\. <code>ws:\/\/127\.0\.0\.1:\d+\/channel\/lobby/);
});
