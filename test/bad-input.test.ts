/**
 * The bad-input battery: each input gets a clear answer, the server stays up,
 * and a bystander on another connection is unaffected throughout.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, loadConfig, resolveConfig } from '../src/index.js';
import { refusedHandshake, startServer, TestClient } from './helpers.js';

const relaxed = { inboundRate: 0, inboundBytesRate: 0, addressInboundRate: 0, outboundRate: 0, maxOutboundRate: 0 };

test('command mode answers every bad message with error|… and keeps going', async (t) => {
  const { ws } = await startServer(t, relaxed);
  const bystander = await TestClient.connect(t, ws('/echo?rate=0'));
  const client = await TestClient.connect(t, ws('/api?rate=0'));
  const cases: [string, RegExp][] = [
    // Control characters are just text: they reach the handler and come back as they were.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point here
    ['\u0000\u0001\u0002\u001b[31m', /^error\|\u0000\u0001\u0002\u001b\[31m\|unknown command/],
    // eslint-disable-next-line no-control-regex -- likewise
    ['get|a\u0000b', /^missing\|a\u0000b$/],
    [`get${'|x'.repeat(10_000)}`, /^error\|get\|too many fields \(10000\)/],
    [`${'['.repeat(5_000)}`, /^error\|[[]+\|unknown command/],
    [`{"verb":"get","key":${'['.repeat(5_000)}${']'.repeat(5_000)}}`, /^error\|get\|key must be a text \(got a list\)$/],
    [`{"verb":"set","key":"k","value":"${'v'.repeat(60_000)}"}`, /^ok\|set\|k$/],
    [`{${'"a":1,'.repeat(5_000)}"verb":"ping"}`, /^error\|ping\|unknown property "a"/],
    ['frobnicate|now', /^error\|frobnicate\|unknown command "frobnicate"/],
    ['set|%|%%%E0%A4%ZZ%', /^ok\|set\|%25$/],
    ['get|%', /^value\|%25\|%25%25\uFFFD%25ZZ%25$/],
    ['join|../../etc/passwd', /^error\|join\|"\.\.\/\.\.\/etc\/passwd" is not a valid channel name/],
    ['set|../../etc/passwd|just a key', /^ok\|set\|\.\.\/\.\.\/etc\/passwd$/],
    ['{"verb":["get"]}', /^error\|json\|the "verb" property is missing/],
    ['{"verb":"get","id":{"x":1},"key":"k"}', /^error\|get\|bad request id/],
  ];
  for (const [input, expected] of cases) {
    client.send(input);
    assert.match(await client.next(), expected, input.slice(0, 40));
    bystander.send('still fine');
    assert.equal(await bystander.next(), 'still fine');
  }
});

test('more than 256 commands waiting are refused with "slow down", not queued without bound', async (t) => {
  const { ws } = await startServer(t, relaxed);
  const client = await TestClient.connect(t, ws('/api?rate=0'));
  for (let i = 0; i < 2_000; i++) client.send(`set|k${i}|v`);
  let ok = 0;
  let refused = 0;
  for (let i = 0; i < 2_000; i++) {
    const reply = await client.next();
    if (reply.startsWith('ok|')) ok++;
    else if (reply === 'error|set|more than 256 commands are waiting; slow down') refused++;
  }
  assert.equal(ok + refused, 2_000);
  assert.ok(ok >= 256);
});

test('one client joining 10,000 distinct channels is stopped at the per-connection bound', async (t) => {
  const { ws, http } = await startServer(t, relaxed);
  const client = await TestClient.connect(t, ws('/api?rate=0'));
  let joined = 0;
  let refused = '';
  // In batches of 200: one connection may have 256 commands waiting (past that: error|…|slow down).
  for (let batch = 0; batch < 50; batch++) {
    for (let i = 0; i < 200; i++) client.send(`join|room-${batch * 200 + i}`);
    for (let i = 0; i < 200; i++) {
      const reply = await client.next();
      if (reply.startsWith('ok|join|')) joined++;
      else refused ||= reply;
    }
  }
  assert.equal(joined, 100);
  assert.match(refused, /^error\|join\|you are in 100 channels already, the most one connection may join; leave one first$/);
  const health = (await (await fetch(http('/healthz'))).json()) as { channels: number };
  assert.equal(health.channels, 100);
});

test('publishing to 10,000 distinct channels keeps the server bounded and up', async (t) => {
  const { ws } = await startServer(t, relaxed);
  const client = await TestClient.connect(t, ws('/api?rate=0'));
  for (let batch = 0; batch < 50; batch++) {
    for (let i = 0; i < 200; i++) client.send(`pub|spam-${batch * 200 + i}|x`);
    for (let i = 0; i < 200; i++) assert.match(await client.next(), /^ok\|pub\|spam-\d+$/);
  }
  client.send('ping');
  assert.equal(await client.next(), 'pong');
});

test('malformed frames, binary, invalid UTF-8 and oversized frames each get their answer; others are unaffected', async (t) => {
  const { ws, port } = await startServer(t, { ...relaxed, maxMessageBytes: 1024 });
  const bystander = await TestClient.connect(t, ws('/channel/calm?echo=1&rate=0'));

  const binary = await TestClient.connect(t, ws('/echo'));
  binary.socket.send(Buffer.from([0xff, 0x00]), { binary: true });
  assert.match(await binary.next(), /^error\|binary\|/);

  const utf8 = await TestClient.connect(t, ws('/echo'));
  utf8.socket.send(Buffer.from([0xc3, 0x28]), { binary: false });
  assert.equal((await utf8.closed).code, 1007);

  const big = await TestClient.connect(t, ws('/echo'));
  big.send('x'.repeat(2_000));
  assert.match(await big.next(), /^error\|size\|/);
  assert.equal((await big.closed).code, 1009);

  // A frame with a reserved opcode (0x3): a protocol error, 1002.
  const raw = await TestClient.connect(t, ws('/echo'));
  const rawSocket = (raw.socket as unknown as { _socket: import('node:net').Socket })._socket;
  rawSocket.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
  assert.equal((await raw.closed).code, 1002);

  bystander.send('calm');
  assert.equal(await bystander.next(), 'calm');
  assert.ok(port > 0);
});

test('very long URLs and query strings are answered at once, never hung', async (t) => {
  const { ws, port } = await startServer(t);
  const longChannel = await refusedHandshake(ws(`/channel/${'a'.repeat(5_000)}`));
  assert.equal(longChannel.status, 400);
  const longQuery = await TestClient.connect(t, ws(`/echo?name=${'n'.repeat(3_000)}&x=${'y'.repeat(3_000)}`));
  assert.match(await longQuery.next(), /^error\|query\|name must be 1 to 64 characters/);
  assert.match(await longQuery.next(), /^error\|query\|unknown option "x"/);
  // Past Node's header limit (16 KiB) the request itself is refused with 431.
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/echo?${'q'.repeat(20_000)}` }, (res) => resolve(res.statusCode ?? 0));
    req.once('error', reject);
    req.end();
  });
  assert.equal(status, 431);
});

test('the config loader never fails with anything but a ConfigError (fuzzed)', () => {
  const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object());
  const keys = fc.constantFrom('port', 'host', 'tokens', 'logLevel', 'store', 'endpointRates', 'allowAnonymous', 'nope', 'maxHistory', 'tlsCert');
  fc.assert(
    fc.property(fc.dictionary(keys, value), fc.dictionary(keys, fc.string()), (options, flags) => {
      for (const attempt of [() => resolveConfig(options), () => loadConfig({ flags: flags as never }), () => loadConfig({ env: Object.fromEntries(Object.entries(flags).map(([k, v]) => [`RESOBRIDGE_${k.toUpperCase()}`, v])) })]) {
        try {
          attempt();
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
        }
      }
    }),
    { numRuns: 1_000 },
  );
});

test('malformed escapes and unparsable request targets are refused, and the server stays up', { timeout: 30_000 }, async (t) => {
  const { ws, http, port } = await startServer(t);
  // A token with a malformed escape (tokens are not required on this server, so the path still routes).
  const viaBadToken = await TestClient.connect(t, ws('/t/%E0%A4/echo'));
  assert.equal(await viaBadToken.ask('x'), 'x');
  const absolute = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET http://[bad/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.once('close', () => resolve(answer));
    socket.once('error', reject);
  });
  assert.match(absolute, /^HTTP\/1\.1 400 /);
  assert.equal((await fetch(http('/publish/%E0%A4'), { method: 'POST', body: 'x' })).status, 400);
  const echo = await TestClient.connect(t, ws('/echo'));
  assert.equal(await echo.ask('still up'), 'still up');
});

test('a bad ?rate= says the whole allowed range, with the server\'s upper bound', async (t) => {
  const { ws } = await startServer(t, { maxOutboundRate: 500 });
  const client = await TestClient.connect(t, ws('/echo?rate=fast'));
  assert.equal(await client.next(), 'error|query|rate must be a whole number of messages per second from 1 to 500 (got "fast")');
});
