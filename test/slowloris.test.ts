/**
 * Slowloris: one address opens hundreds of handshakes and finishes none, against a server
 * with few file descriptors. Others keep connecting, /healthz keeps answering.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { spawnCli, TestClient, waitForOutput, WAIT_MS } from './helpers.js';

const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((path) => existsSync(path));
const skip = process.platform !== 'linux' ? 'file descriptor limits are read on Linux only' : !prlimit && 'prlimit (util-linux) is not installed';

/** GET /healthz from `localAddress`; its status. */
function healthz(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/healthz', localAddress, timeout: WAIT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('/healthz did not answer')));
    request.on('error', reject);
  });
}

test('a slowloris from one address cannot take the server\'s descriptors: others connect, /healthz answers', { skip, timeout: 60_000 }, async (t) => {
  const child = spawnCli(['serve', '--port', '0', '--log-format', 'json'], {}, [prlimit ?? 'prlimit', '--nofile=256:256', '--']);
  t.after(() => child.kill('SIGKILL'));
  let log = '';
  child.stdout.on('data', (chunk) => (log += String(chunk)));
  const { match } = await waitForOutput(child, /ws:\/\/localhost:(\d+)\/echo/);
  const port = Number(match[1]);
  assert.match(log, /this process may open only 256 files \(ulimit -n\)/);

  // 300 partial handshakes from 127.0.0.1: more than the server has descriptors for.
  const attackers: Socket[] = [];
  t.after(() => attackers.forEach((socket) => socket.destroy()));
  let open = 0;
  for (let i = 0; i < 300; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.on('connect', () => {
      open++;
      socket.write(`GET /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    });
    socket.on('close', () => open--);
    attackers.push(socket);
  }
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const socket of attackers) if (!socket.destroyed) socket.write(`X-Slow-${round}: 1\r\n`);
    // Another address opens a WebSocket and gets an answer; a third asks /healthz.
    const other = await TestClient.connect(t, `ws://127.0.0.1:${port}/echo`, { localAddress: '127.0.0.2' });
    assert.equal(await other.ask(`round ${round}`), `round ${round}`);
    other.socket.close();
    assert.equal(await healthz(port, '127.0.0.3'), 200);
  }
  // The attacker holds at most maxPendingSocketsPerAddress (32) unfinished handshakes; the rest were refused at once.
  assert.ok(open <= 32, `${open} half-open handshakes held by one address`);
  assert.match(log, /socket refused: too many unfinished requests from one address/);
});
