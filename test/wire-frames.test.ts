/**
 * What goes on the wire, read byte by byte by a raw TCP client: Connection
 * writes pre-built text frames to the socket itself, beside ws (which still
 * pings, answers pings and closes on the same socket). Every frame must be a
 * whole, valid, unmasked text frame in its shortest length form, and ws's
 * control frames must fall between frames, in call order. If a ws release
 * began to queue or split its writes, these tests fail.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { test, type TestContext } from 'node:test';
import { generate } from 'selfsigned';
import { TextFrame } from '../src/protocol/text-frame.js';
import { WriteBatch } from '../src/server/write-batch.js';
import { startServer, WAIT_MS } from './helpers.js';

const OP = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** 7, 16 or 64: the length form the header used. */
  lengthBits: 7 | 16 | 64;
  payload: Buffer;
}

/** Reads one frame from the front of `data`; undefined if it is not all there yet. Throws on what RFC 6455 forbids a server to send. */
function parseFrame(data: Buffer): { frame: Frame; size: number } | undefined {
  if (data.length < 2) return undefined;
  const [first = 0, second = 0] = data;
  const masked = (second & 0x80) !== 0;
  let length = second & 0x7f;
  let offset = 2;
  let lengthBits: Frame['lengthBits'] = 7;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
    lengthBits = 16;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = data.readUInt32BE(2) * 2 ** 32 + data.readUInt32BE(6);
    offset = 10;
    lengthBits = 64;
  }
  if (data.length < offset + length) return undefined;
  return {
    frame: { fin: (first & 0x80) !== 0, rsv: (first >> 4) & 0x7, opcode: first & 0x0f, masked, lengthBits, payload: data.subarray(offset, offset + length) },
    size: offset + length,
  };
}

/** The length form RFC 6455 §5.2 requires: the shortest that holds the length. */
const shortestForm = (length: number) => (length <= 125 ? 7 : length <= 0xffff ? 16 : 64);

function assertTextFrame(frame: Frame, text: string): void {
  assert.equal(frame.fin, true, 'a whole message: FIN set');
  assert.equal(frame.rsv, 0, 'no RSV bits (no compression)');
  assert.equal(frame.opcode, OP.text, 'a text frame');
  assert.equal(frame.masked, false, 'server frames are never masked');
  assert.equal(frame.lengthBits, shortestForm(frame.payload.length), 'the shortest length form');
  assert.equal(frame.payload.toString('utf8'), text);
}

/** A masked client frame, as every client must send (RFC 6455 §5.3). */
function clientFrame(opcode: number, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const header = body.length <= 125 ? 2 : body.length <= 0xffff ? 4 : 10;
  const frame = Buffer.alloc(header + 4 + body.length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | body.length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(body.length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(body.length, 6);
  }
  const mask = randomBytes(4);
  mask.copy(frame, header);
  for (let i = 0; i < body.length; i++) frame[header + 4 + i] = (body[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return frame;
}

/** A WebSocket client on a bare TCP socket: it sees every frame exactly as the server wrote it. */
class RawClient {
  private buffer = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (let parsed = parseFrame(this.buffer); parsed; parsed = parseFrame(this.buffer)) {
        this.frames.push(parsed.frame);
        this.buffer = this.buffer.subarray(parsed.size);
      }
      this.wake?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** Connects (over TLS with `tls`) and completes the handshake, offering permessage-deflate (the server must refuse it: its frames are never compressed). */
  static async open(t: TestContext, port: number, path: string, tls = false): Promise<RawClient> {
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    await once(socket, tls ? 'secureConnect' : 'connect');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n',
    );
    let head = Buffer.alloc(0);
    while (!head.includes('\r\n\r\n')) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      head = Buffer.concat([head, chunk]);
    }
    const end = head.indexOf('\r\n\r\n') + 4;
    const response = head.subarray(0, end).toString();
    assert.match(response, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(response, /sec-websocket-extensions/i, 'permessage-deflate stays off');
    const client = new RawClient(socket);
    if (head.length > end) socket.emit('data', head.subarray(end));
    return client;
  }

  send(...frames: Buffer[]): void {
    // One write: the server reads them in one chunk, as a pipelining client's would be.
    this.socket.write(Buffer.concat(frames));
  }

  /** The next `count` frames (waits for them, up to WAIT_MS). */
  async take(count: number): Promise<Frame[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.frames.length < count) {
      if (this.ended) throw new Error(`the server ended the connection after ${this.frames.length} of ${count} frames`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`only ${this.frames.length} of ${count} frames within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.frames.splice(0, count);
  }

  /** Resolves when the server has ended the TCP connection; the frames left unread are returned. */
  async end(): Promise<Frame[]> {
    if (!this.ended) await once(this.socket, 'end');
    return this.frames.splice(0);
  }

  /** Bytes left that are not a whole frame. */
  get partial(): number {
    return this.buffer.length;
  }
}

const relaxed = { inboundRate: 0, inboundBytesRate: 0, addressInboundRate: 0, outboundRate: 0, maxOutboundRate: 0, maxMessageBytes: 1024 * 1024 };

/** One text for each length class: empty, 7-bit (up to 125), its edges, 16-bit (126 to 65535), 64-bit; and multi-byte text, where bytes and characters differ. */
const lengthClasses = [
  '',
  'x',
  'a'.repeat(125),
  'b'.repeat(126),
  'é'.repeat(62) + 'c', // 125 bytes from 63 characters
  'é'.repeat(63), // 126 bytes: the 16-bit form, though 63 characters
  'd'.repeat(65_535),
  'e'.repeat(65_536),
  '🙂'.repeat(50_000), // 200,000 bytes
];

test('TextFrame builds one whole unmasked text frame in the shortest length form for every length class', () => {
  for (const text of lengthClasses) {
    const frame = TextFrame.of(text);
    const parsed = parseFrame(frame.wire);
    assert.ok(parsed, `a whole frame for ${text.length} characters`);
    assert.equal(parsed.size, frame.wire.length, 'nothing after the frame');
    assertTextFrame(parsed.frame, text);
    assert.equal(frame.length, Buffer.byteLength(text));
    assert.equal(frame.text, text);
    assert.deepEqual(frame.bytes, Buffer.from(text));
  }
});

test('on the wire, every length class arrives as one valid text frame, in order', async (t) => {
  const { port } = await startServer(t, relaxed);
  const client = await RawClient.open(t, port, '/echo');
  client.send(...lengthClasses.map((text) => clientFrame(OP.text, text)));
  const frames = await client.take(lengthClasses.length);
  frames.forEach((frame, i) => assertTextFrame(frame, lengthClasses[i] ?? ''));
  assert.equal(client.partial, 0);
});

test('over TLS (wss://) too, every length class arrives as one valid text frame, with pongs between them', async (t) => {
  const pair = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const folder = mkdtempSync(join(tmpdir(), 'resobridge-wire-tls-'));
  writeFileSync(join(folder, 'cert.pem'), pair.cert);
  writeFileSync(join(folder, 'key.pem'), pair.private);
  const { port } = await startServer(t, { ...relaxed, tlsCert: join(folder, 'cert.pem'), tlsKey: join(folder, 'key.pem') });
  const client = await RawClient.open(t, port, '/echo', true);
  client.send(...lengthClasses.flatMap((text, i) => [clientFrame(OP.text, text), clientFrame(OP.ping, `p${i}`)]));
  const frames = await client.take(lengthClasses.length * 2);
  lengthClasses.forEach((text, i) => {
    assertTextFrame(frames[2 * i] as Frame, text);
    assert.equal(frames[2 * i + 1]?.opcode, OP.pong);
    assert.equal(frames[2 * i + 1]?.payload.toString(), `p${i}`);
  });
});

test("ws's pongs fall between whole text frames, in the order the pings came", async (t) => {
  const { port } = await startServer(t, relaxed);
  const client = await RawClient.open(t, port, '/echo');
  const big = 'f'.repeat(70_000);
  client.send(
    clientFrame(OP.text, 'one'),
    clientFrame(OP.ping, 'p1'),
    clientFrame(OP.text, big),
    clientFrame(OP.ping, 'p2'),
    clientFrame(OP.text, 'three'),
  );
  const [one, pong1, two, pong2, three] = await client.take(5);
  assertTextFrame(one as Frame, 'one');
  assert.equal(pong1?.opcode, OP.pong);
  assert.equal(pong1?.payload.toString(), 'p1');
  assertTextFrame(two as Frame, big);
  assert.equal(pong2?.opcode, OP.pong);
  assert.equal(pong2?.payload.toString(), 'p2');
  assertTextFrame(three as Frame, 'three');
});

test("the server's keepalive pings interleave with a stream of text frames without splitting one", async (t) => {
  const { port } = await startServer(t, { ...relaxed, pingIntervalMs: 50 });
  const client = await RawClient.open(t, port, '/echo');
  const sizes = [5, 125, 126, 1_000, 65_536];
  let sent = 0;
  let received = 0;
  let pings = 0;
  // Bounded: stops once two pings have come between text frames, or after 2,000 messages (the pings may lag; then it fails).
  while (pings < 2 && sent < 2_000) {
    const batch = sizes.map((size) => `${sent++}:`.padEnd(size, 'z'));
    client.send(...batch.map((text) => clientFrame(OP.text, text)));
    for (let textsLeft = batch.length; textsLeft > 0; ) {
      const [frame] = await client.take(1);
      if (frame?.opcode === OP.ping) {
        pings++;
        client.send(clientFrame(OP.pong, frame.payload));
        continue;
      }
      assertTextFrame(frame as Frame, batch[batch.length - textsLeft] ?? '');
      received++;
      textsLeft--;
    }
  }
  assert.ok(pings >= 2, `pings came (${pings}) while ${sent} messages went`);
  assert.equal(received, sent);
});

test('a close frame comes after every text frame written before it, and nothing after it', async (t) => {
  const { port } = await startServer(t, relaxed);
  const client = await RawClient.open(t, port, '/echo');
  const code = Buffer.alloc(2);
  code.writeUInt16BE(1000);
  client.send(clientFrame(OP.text, 'last words'), clientFrame(OP.text, 'g'.repeat(300)), clientFrame(OP.close, code));
  const frames = await client.end();
  assert.equal(frames.length, 3, 'two text frames and the close');
  assertTextFrame(frames[0] as Frame, 'last words');
  assertTextFrame(frames[1] as Frame, 'g'.repeat(300));
  assert.equal(frames[2]?.opcode, OP.close);
  assert.equal(frames[2]?.payload.readUInt16BE(0), 1000);
});

test('a paced client that closes while replies wait gets the close frame last, with no text after it', async (t) => {
  const { port } = await startServer(t, { ...relaxed, maxOutboundRate: 1000, outboundBurst: 5 });
  const client = await RawClient.open(t, port, '/echo?rate=20');
  const code = Buffer.alloc(2);
  code.writeUInt16BE(1000);
  // 50 replies at 20 a second (a burst of 5 go at once, the rest wait in the pacer), then the close.
  client.send(...Array.from({ length: 50 }, (_, i) => clientFrame(OP.text, `r${i}`)), clientFrame(OP.close, code));
  const frames = await client.end();
  const close = frames.pop();
  assert.equal(close?.opcode, OP.close, 'the close frame is the last frame');
  assert.ok(frames.length >= 5 && frames.length < 50, `the burst went before the close, the waiting replies did not (${frames.length})`);
  frames.forEach((frame, i) => assertTextFrame(frame, `r${i}`));
});

test('a WriteBatch never holds more than its bound corked, and what it writes arrives whole and in order', async (t) => {
  const listener = createTcpServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  t.after(() => listener.close());
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const writer = connect((listener.address() as { port: number }).port, '127.0.0.1');
  t.after(() => writer.destroy());
  await once(writer, 'connect');
  const [reader] = await accepted;
  t.after(() => reader.destroy());
  const chunks: Buffer[] = [];
  reader.on('data', (chunk: Buffer) => chunks.push(chunk));

  const bound = 4_096;
  const batch = new WriteBatch(writer, bound);
  const frames = Array.from({ length: 12 }, (_, i) => TextFrame.of(`${i}:`.padEnd(1_000, 'w')));
  let mostHeld = 0;
  // One turn: without a bound all 12 KB would wait corked until the turn ends.
  for (const frame of frames) {
    batch.write(frame.wire);
    mostHeld = Math.max(mostHeld, writer.writableLength);
  }
  assert.ok(mostHeld < bound + 1_010, `at most the bound plus one frame waits corked (${mostHeld})`);
  const expected = Buffer.concat(frames.map((frame) => frame.wire));
  for (let deadline = Date.now() + WAIT_MS; Buffer.concat(chunks).length < expected.length && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(Buffer.concat(chunks), expected);
});

test("the server's final message goes whole before its close frame", async (t) => {
  const { port } = await startServer(t, { ...relaxed, maxMessageBytes: 1024 });
  const client = await RawClient.open(t, port, '/echo');
  client.send(clientFrame(OP.text, 'h'.repeat(2_000)));
  const [error, close] = await client.take(2);
  assert.match(error?.payload.toString() ?? '', /^error\|size\|/);
  assertTextFrame(error as Frame, error?.payload.toString() ?? '');
  assert.equal(close?.opcode, OP.close);
  assert.equal(close?.payload.readUInt16BE(0), 1009);
});
