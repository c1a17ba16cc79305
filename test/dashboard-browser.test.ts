/** The dashboard in a real browser: what a world builder sees and does on the page. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, skipUnlessChromium } from './browser.js';
import { startServer, TestClient } from './helpers.js';

const skip = skipUnlessChromium();
let browser: Browser;
before(async () => {
  if (!skip) browser = await launchChromium();
});
after(() => browser?.close());

async function openPage(url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  after(() => assert.deepEqual(errors, [], 'the page ran without script errors'));
  await page.goto(url);
  return page;
}

test('connections appear live; their messages reach the log; the page sends, publishes, filters and edits keys', { skip }, async (t) => {
  const { http, ws, server } = await startServer(t, { dashboard: true });
  const page = await openPage(http('/'));
  await page.getByRole('heading', { name: 'Paste into Resonite' }).waitFor();

  // A world connects: it shows up in the list without reloading.
  await page.getByRole('tab', { name: /Connections/ }).click();
  const alice = await TestClient.connect(t, ws('/channel/lobby?name=Alice'));
  const bob = await TestClient.connect(t, ws('/echo?name=Bob'));
  await page.getByLabel('connection Alice').waitFor();
  await page.getByLabel('connection Bob').waitFor();

  // What it sends shows in the log.
  alice.send('hello from Alice');
  bob.send('ping from Bob');
  assert.equal(await bob.next(), 'ping from Bob');
  await page.getByRole('tab', { name: 'Log' }).click();
  const log = page.getByLabel('Message log');
  await log.getByText('hello from Alice').waitFor();
  await log.getByText('ping from Bob').waitFor();

  // Filter the log: only what matches stays.
  await page.getByLabel('Search the log').fill('Alice');
  await log.getByText('ping from Bob').waitFor({ state: 'detached' });
  assert.equal(await log.getByText('hello from Alice').count(), 1);
  await page.getByLabel('Search the log').fill('');
  await page.getByLabel('Endpoint').selectOption('/echo');
  await log.getByText('hello from Alice').waitFor({ state: 'detached' });
  await log.getByText('ping from Bob').waitFor();
  await page.getByLabel('Endpoint').selectOption('');

  // Pause freezes the view; resume shows what came meanwhile.
  await page.getByRole('button', { name: 'Pause' }).click();
  alice.send('while paused');
  await page.getByRole('button', { name: /Resume \(1 new\)/ }).waitFor();
  assert.equal(await log.getByText('while paused').count(), 0);
  await page.getByRole('button', { name: /Resume/ }).click();
  await log.getByText('while paused').waitFor();

  // Select a connection: its recent messages; send it a message as the server.
  await page.getByRole('tab', { name: /Connections/ }).click();
  await page.getByLabel('connection Alice').click();
  const detail = page.getByLabel('Selected connection');
  await detail.getByText('hello from Alice').waitFor();
  await detail.getByLabel('Message to this connection').fill('hi Alice, from the dashboard');
  await detail.getByRole('button', { name: 'Send' }).click();
  assert.equal(await alice.next(), 'hi Alice, from the dashboard');
  await detail.getByText('hi Alice, from the dashboard').waitFor();

  // Publish to a channel from the page.
  await page.getByRole('tab', { name: /Channels/ }).click();
  await page.getByRole('cell', { name: 'lobby' }).waitFor();
  await page.getByLabel('Channel', { exact: true }).fill('lobby');
  await page.getByLabel('Text to publish').fill('announcement');
  await page.getByRole('button', { name: 'Publish' }).click();
  assert.equal(await alice.next(), 'announcement');
  await page.getByText('Published to lobby.').waitFor();

  // The store: edit a key, then delete it (after confirming).
  await server.store().set('score', '41');
  await page.getByRole('tab', { name: 'Store' }).click();
  const row = page.getByRole('row', { name: /score/ });
  await row.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Value').fill('42');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved score.').waitFor();
  assert.equal(await server.store().get('score'), '42');
  await row.getByRole('button', { name: 'Delete' }).click();
  assert.equal(await server.store().get('score'), '42', 'nothing is deleted before it is confirmed');
  await row.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByText('Deleted score.').waitFor();
  assert.equal(await server.store().get('score'), undefined);
});

test('reachable from other machines, the page asks for the admin token first', { skip }, async (t) => {
  const token = 'dashboard-secret-0123456789';
  const { http } = await startServer(t, { dashboard: true, host: '0.0.0.0', allowAnonymous: true, dashboardToken: token });
  const page = await openPage(http('/'));
  const input = page.getByLabel('Admin token');
  await input.fill('not-the-right-token-at-all');
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  assert.match(await page.getByRole('alert').innerText(), /not an admin token/);
  await input.fill(token);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.getByRole('heading', { name: 'Paste into Resonite' }).waitFor();
  // The token lasts for the tab's session: a reload goes straight in.
  await page.reload();
  await page.getByRole('heading', { name: 'Paste into Resonite' }).waitFor();
});

test('a thousand connections: the list pages through them and the page stays responsive', { skip }, async (t) => {
  const { http, ws } = await startServer(t, { dashboard: true, maxConnectionsPerAddress: 2_000, maxPendingSocketsPerAddress: 2_000, handshakeRate: 0 });
  await Promise.all(Array.from({ length: 1_000 }, (_, i) => TestClient.connect(t, ws(`/echo?name=world-${i}`))));
  const page = await openPage(http('/'));
  await page.getByRole('tab', { name: /Connections/ }).click();
  await page.getByText('1–100 of 1,000').waitFor();
  assert.equal(await page.locator('tbody tr').count(), 100);
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByText('101–200 of 1,000').waitFor();
  await page.getByLabel('Filter connections').fill('world-999');
  await page.getByText('1–1 of 1').waitFor();
  await page.getByLabel('connection world-999').waitFor();
  // Still answering at once: a script round trip through the page's event loop.
  assert.equal(await page.evaluate(() => document.querySelectorAll('tbody tr').length), 1);
});
