/**
 * A web page of another site, open in the user's browser (Chromium), must not
 * use the server: the page is served from 127.0.0.2, the server listens on
 * 127.0.0.1 with no tokens (the default). With its origin in allowedOrigins, it may.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, skipUnlessChromium } from './browser.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';

const skip = skipUnlessChromium();
let browser: Browser;
before(async () => {
  if (!skip) browser = await launchChromium();
});
after(() => browser?.close());

/** A page of a second site: an empty document at http://127.0.0.2:PORT/ that the test drives. */
async function otherSite(t: TestContext): Promise<{ origin: string; page: Page }> {
  const site = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another site</title><p>another site</p>');
  });
  site.listen(0, '127.0.0.2');
  await once(site, 'listening');
  t.after(() => new Promise<void>((resolve) => site.close(() => resolve())));
  const origin = `http://127.0.0.2:${(site.address() as AddressInfo).port}`;
  const context = await browser.newContext();
  t.after(() => context.close());
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  return { origin, page };
}

/** What a page's WebSocket to `url` gets: the reply to `send`, or how it failed. */
function tryWebSocket(page: Page, url: string, send: string): Promise<string> {
  return page.evaluate(
    ([target, text]) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(target);
        socket.onopen = () => socket.send(text);
        socket.onmessage = (event) => {
          resolve(`reply: ${String(event.data)}`);
          socket.close();
        };
        socket.onclose = () => resolve('closed');
        socket.onerror = () => resolve('refused');
      }),
    [url, send] as const,
  );
}

/** A form on the page posts to `action` (a plain HTML form needs no script and no CORS). */
async function submitForm(page: Page, action: string): Promise<void> {
  await page.evaluate((target) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = target;
    const field = document.createElement('input');
    field.name = 'text';
    field.value = 'from a web page';
    form.append(field);
    document.body.append(form);
    form.submit();
  }, action);
  await page.waitForURL(action);
}

/** What a page's fetch of `url` gets: the body, or that it failed. */
function tryFetch(page: Page, url: string, init: RequestInit = {}): Promise<string> {
  return page.evaluate(
    ([target, options]) =>
      fetch(target, options).then(
        async (response) => `${response.status} ${await response.text()}`,
        () => 'failed',
      ),
    [url, init] as const,
  );
}

test('a page of another site cannot use the server: WebSocket, form POST and fetch are refused', { skip, timeout: 60_000 }, async (t) => {
  const log = capturedLogger();
  const { ws, http, server } = await startServer(t, { logger: log.logger });
  await server.store().set('secret', 'hidden');
  const { origin, page } = await otherSite(t);
  const listener = await TestClient.connect(t, ws('/channel/x'));

  assert.equal(await tryWebSocket(page, ws('/api'), 'get|secret'), 'refused');
  await submitForm(page, http('/publish/x'));
  assert.match(await page.content(), /Web pages may not use this server/);
  await page.goto(`${origin}/`);
  assert.equal(await tryFetch(page, http('/kv/secret')), 'failed');
  assert.equal(await tryFetch(page, http('/publish/x'), { method: 'POST', mode: 'no-cors', body: 'no-cors post' }), '0 ');

  // Nothing of the page's reached the channel or the store.
  await fetch(http('/publish/x'), { method: 'POST', body: 'from curl' });
  assert.equal(await listener.next(), 'from curl');
  assert.equal(await server.store().get('secret'), 'hidden');
  const refused = [...log.find('handshake refused'), ...log.find('http request refused')];
  assert.deepEqual(refused.map((line) => [line.path, line.status]), [['/api', 403], ['/publish/x', 403], ['/kv/secret', 403], ['/publish/x', 403]]);
  for (const line of refused) assert.match(String(line.reason), /Web pages may not use this server: this request came from a page at http:\/\/127\.0\.0\.2:/);
});

test('with its origin in allowedOrigins, the same page may use the server', { skip, timeout: 60_000 }, async (t) => {
  // The site is started first: its origin (with its port) goes into the setting.
  const { origin, page } = await otherSite(t);
  const { ws, http, server } = await startServer(t, { allowedOrigins: [origin] });
  await server.store().set('score', '42');
  const listener = await TestClient.connect(t, ws('/channel/x'));

  assert.equal(await tryWebSocket(page, ws('/api'), 'get|score'), 'reply: value|score|42');
  await submitForm(page, http('/publish/x'));
  assert.equal(await listener.next(), 'text=from+a+web+page');
  await page.goto(`${origin}/`);
  assert.equal(await tryFetch(page, http('/kv/score')), '200 42');
  assert.match(await tryFetch(page, http('/kv/score'), { method: 'PUT', body: '43' }), /^200 /);
  assert.equal(await server.store().get('score'), '43');
});
