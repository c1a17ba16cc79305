/**
 * The server log is a world builder's only window (Resonite shows neither a
 * refused handshake's body nor a close reason): every refusal, every
 * error|query and every close the server initiates says why there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capturedLogger, refusedHandshake, startServer, TestClient } from './helpers.js';

test('a refused handshake is logged at info with the sentence the client got', async (t) => {
  const log = capturedLogger('info');
  const { ws } = await startServer(t, { logger: log.logger });
  const refused = await refusedHandshake(ws('/nothing'));
  const [line] = log.find('handshake refused');
  assert.equal(line?.level, 30);
  assert.equal(line?.status, 404);
  assert.equal(line?.reason, refused.body.trim());
});

test('every error|query sent to a client is logged with its reason', async (t) => {
  const log = capturedLogger('info');
  const { ws } = await startServer(t, { logger: log.logger });
  const client = await TestClient.connect(t, ws('/echo?rate=fast&colour=red'));
  const sent = [await client.next(), await client.next()];
  assert.deepEqual(sent.map((text) => text.split('|').slice(0, 2).join('|')), ['error|query', 'error|query']);
  const lines = log.find('query option refused');
  assert.deepEqual(
    lines.map((line) => `error|query|${String(line.reason)}`),
    sent,
  );
});

test('a close the server initiates is logged with its reason; one the client makes says so', { timeout: 30_000 }, async (t) => {
  const log = capturedLogger('info');
  const { ws, server } = await startServer(t, { logger: log.logger, maxMessageBytes: 128 });
  // Fast pings on a server of its own, so no other client here has to keep up with them.
  const fast = await startServer(t, { logger: log.logger, pingIntervalMs: 50, maxMissedPongs: 1 });
  const big = await TestClient.connect(t, ws('/echo?name=big'));
  big.send('x'.repeat(200));
  await big.closed;
  const leaver = await TestClient.connect(t, ws('/echo?name=leaver'));
  leaver.socket.close(1000, 'bye');
  await leaver.closed;
  // A client that stopped answering pings (a frozen process) is cut.
  const frozen = await TestClient.connect(t, fast.ws('/echo?name=frozen'), { autoPong: false });
  await frozen.closed;
  const staying = await TestClient.connect(t, ws('/echo?name=staying'));
  await server.close();
  await staying.closed;

  const closes = new Map(log.find('disconnected').map((line) => [line.name, line]));
  assert.deepEqual(pick(closes.get('big')), { closedBy: 'server', code: 1009, reason: 'message too big' });
  assert.deepEqual(pick(closes.get('leaver')), { closedBy: 'client', code: 1000, reason: 'bye' });
  assert.deepEqual(pick(closes.get('frozen')), { closedBy: 'server', code: 1006, reason: 'unresponsive: no answer to 1 pings in a row' });
  assert.deepEqual(pick(closes.get('staying')), { closedBy: 'server', code: 1001, reason: 'server shutting down' });
});

function pick(line: Record<string, unknown> | undefined) {
  return { closedBy: line?.closedBy, code: line?.code, reason: line?.reason };
}
