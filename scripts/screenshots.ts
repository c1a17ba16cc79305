/**
 * npm run screenshots: the dashboard's main views, as a world builder sees
 * them, into docs/images (for the README and docs/dashboard.md). A real
 * server with real clients and bridges; look at the pictures after a UI change.
 */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createServer } from '../src/server/create-server.js';
import { launchChromium } from '../test/browser.js';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
const server = createServer({
  port: 0,
  store: 'memory',
  logLevel: 'silent',
  bridges: [
    { type: 'osc', name: 'vrchat-osc', listen: 49_000 + Math.floor(Math.random() * 1_000), map: { '/avatar/*': 'avatar' } },
    { type: 'mqtt', name: 'home', url: 'mqtt://127.0.0.1:1', subscribe: { 'home/#': 'home' } },
  ],
});
const { port } = await server.listen();
const ws = (path: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
const clients = [
  await ws('/channel/lobby?name=Alice&presence=1'),
  await ws('/channel/lobby?name=Bob'),
  await ws('/channel/lobby?name=Carol%20(world)'),
  await ws('/api?name=scoreboard&ns=arena'),
  await ws('/echo?name=first-test'),
];
const [alice, bob, , scoreboard, echo] = clients as [WebSocket, WebSocket, WebSocket, WebSocket, WebSocket];
await server.store('arena').set('score', '42');
await server.store().set('motd', 'Welcome to the lobby!');
await server.store().set('door.open', 'true');

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`http://localhost:${port}/`);
await page.getByRole('heading', { name: 'Paste into Resonite' }).waitFor();
alice.send('hi everyone');
bob.send('hello Alice!');
scoreboard.send('set|score|43');
scoreboard.send('pub|lobby|score is 43');
echo.send('ping');
server.publish('lobby', 'the round starts in 10 s', 'game');
await page.waitForTimeout(1_200);

const shoot = (name: string) => page.screenshot({ path: `${OUT}dashboard-${name}.png` });
const tab = (name: string) => page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
await shoot('overview');
await tab('Connections');
await page.getByLabel('connection Alice').click();
await page.getByLabel('Selected connection').getByText('hello Alice!').waitFor();
await shoot('connections');
await tab('Channels');
await shoot('channels');
await tab('Log');
await page.getByText('the round starts in 10 s').waitFor();
await shoot('log');
await tab('Store');
await page.getByRole('row', { name: /motd/ }).waitFor();
await shoot('store');
await tab('Bridges');
await shoot('bridges');
await page.setViewportSize({ width: 390, height: 844 });
await tab('Overview');
await page.screenshot({ path: `${OUT}dashboard-narrow-overview.png`, fullPage: true });
await tab('Connections');
await page.screenshot({ path: `${OUT}dashboard-narrow-connections.png`, fullPage: true });

await browser.close();
for (const client of clients) client.close();
await server.close();
console.log(`screenshots written to ${OUT}`);
