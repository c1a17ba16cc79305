import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startServer, TestClient } from './helpers.js';

/** A local HTTP receiver that answers with the given statuses in turn (then 200), and records what it got. */
async function receiver(t: TestContext, statuses: number[] = []) {
  const bodies: Record<string, unknown>[] = [];
  let waiting: (() => void) | undefined;
  let calls = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      const status = statuses[calls++] ?? 200;
      if (status === 200) bodies.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(status).end();
      waiting?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    bodies,
    calls: () => calls,
    /** Waits until `count` bodies were accepted. */
    async received(count: number) {
      while (bodies.length < count) await new Promise<void>((resolve) => (waiting = resolve));
      return bodies;
    },
  };
}

const deadLetter = () => join(mkdtempSync(join(tmpdir(), 'resobridge-dead-')), 'dead.jsonl');

test('webhook: channel messages and watched keys are POSTed as JSON, in order', { timeout: 30_000 }, async (t) => {
  const hook = await receiver(t);
  const { ws } = await startServer(t, { bridges: [{ type: 'webhook', url: hook.url, channel: 'alerts', watch: ['score'], deadLetter: deadLetter() }] });
  const world = await TestClient.connect(t, ws('/channel/alerts?name=Alice'));
  world.send('first');
  world.send('second|with a bar');
  const api = await TestClient.connect(t, ws('/api'));
  assert.equal(await api.ask('set|score|42'), 'ok|set|score');
  assert.equal(await api.ask('del|score'), 'ok|del|score');
  assert.deepEqual(await hook.received(4), [
    { type: 'msg', channel: 'alerts', from: 'Alice', text: 'first' },
    { type: 'msg', channel: 'alerts', from: 'Alice', text: 'second|with a bar' },
    { type: 'value', ns: 'default', key: 'score', value: '42' },
    { type: 'value', ns: 'default', key: 'score', value: null },
  ]);
});

test('webhook: failures are retried with backoff, then written to the dead-letter file', { timeout: 30_000 }, async (t) => {
  const flaky = await receiver(t, [500, 503]);
  const dead = deadLetter();
  const { ws, server } = await startServer(t, {
    bridges: [
      { type: 'webhook', name: 'flaky', url: flaky.url, channel: 'a', retryMs: 10, deadLetter: dead },
    ],
  });
  const world = await TestClient.connect(t, ws('/channel/a?name=Carol'));
  world.send('eventually');
  assert.deepEqual(await flaky.received(1), [{ type: 'msg', channel: 'a', from: 'Carol', text: 'eventually' }]);
  assert.equal(flaky.calls(), 3, 'two failures, then success');
  // The bridge marks itself healthy once it has read the 200.
  while (server.bridges()[0]?.state !== 'connected') await new Promise((resolve) => setTimeout(resolve, 10));

  const broken = await receiver(t, [500, 500, 500, 500]);
  const refused = await receiver(t, [400]);
  const second = await startServer(t, {
    bridges: [
      { type: 'webhook', name: 'broken', url: broken.url, channel: 'b', retryMs: 10, attempts: 3, deadLetter: dead },
      { type: 'webhook', name: 'refused', url: refused.url, channel: 'b', retryMs: 10, deadLetter: dead },
    ],
  });
  const other = await TestClient.connect(t, second.ws('/channel/b?name=Bob'));
  other.send('lost');
  while (readFileSync(dead, { encoding: 'utf8', flag: 'a+' }).trim().split('\n').filter(Boolean).length < 2) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const letters = readFileSync(dead, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { why: string; body: unknown; url: string });
  const byUrl = new Map(letters.map((letter) => [letter.url, letter]));
  assert.match(byUrl.get(broken.url)?.why ?? '', /answered 500/);
  assert.deepEqual(byUrl.get(broken.url)?.body, { type: 'msg', channel: 'b', from: 'Bob', text: 'lost' });
  assert.equal(broken.calls(), 3, 'attempts: 3');
  assert.match(byUrl.get(refused.url)?.why ?? '', /answered 400/);
  assert.equal(refused.calls(), 1, 'a 400 is not retried');
  for (const status of second.server.bridges()) {
    assert.equal(status.state, 'failed', 'a message given up on shows as failed until the next one gets through');
    assert.match(status.detail, /answered (400|500); that message went to the dead-letter file\. Check the URL and what it accepts/);
  }
});

test('webhook: a redirect is not followed: the message and its secret headers do not go to another address', { timeout: 30_000 }, async (t) => {
  const elsewhere = await receiver(t);
  const redirector = createServer((_req, res) => void res.writeHead(307, { location: elsewhere.url }).end());
  redirector.listen(0, '127.0.0.1');
  await once(redirector, 'listening');
  t.after(() => redirector.close());
  const dead = deadLetter();
  const { ws } = await startServer(t, {
    bridges: [{ type: 'webhook', name: 'moved', url: `http://127.0.0.1:${(redirector.address() as { port: number }).port}/hook`, headers: { 'x-api-key': 'for-the-hook-only' }, channel: 'r', retryMs: 10, deadLetter: dead }],
  });
  const world = await TestClient.connect(t, ws('/channel/r?name=Dan'));
  world.send('hello');
  for (let i = 0; i < 500 && elsewhere.calls() === 0 && readFileSync(dead, { encoding: 'utf8', flag: 'a+' }).trim() === ''; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.match(readFileSync(dead, { encoding: 'utf8', flag: 'a+' }), /answered 307/);
  assert.equal(elsewhere.calls(), 0, 'nothing reached the address the redirect pointed to');
});

test('webhook: an unreachable URL shows as retrying, and the server keeps serving', { timeout: 30_000 }, async (t) => {
  const { ws, server } = await startServer(t, {
    bridges: [{ type: 'webhook', name: 'nowhere', url: 'http://127.0.0.1:1/hook', channel: 'c', retryMs: 50, attempts: 100, deadLetter: deadLetter() }],
  });
  const world = await TestClient.connect(t, ws('/channel/c'));
  world.send('x');
  while (server.bridges()[0]?.state !== 'retrying') await new Promise((resolve) => setTimeout(resolve, 10));
  assert.match(server.bridges()[0]?.detail ?? '', /could not be reached .*; trying again in/);
  const echo = await TestClient.connect(t, ws('/echo'));
  assert.equal(await echo.ask('fine'), 'fine');
});
