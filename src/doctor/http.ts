/**
 * Check 6: the server speaks HTTP at all. A WebSocket handshake is an HTTP
 * request, so a server that says nothing, or answers with something else, is
 * a plain socket server and Resonite cannot use it. The probe is a handshake
 * request sent by hand, since many WebSocket servers never answer a plain GET.
 */
import { randomBytes } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Check } from './report.js';
import type { Target } from './target.js';
import { tlsServerName } from './tls.js';
import { isSocketIo } from './upgrade.js';

type Answer = { kind: 'http'; status: number; statusText: string } | { kind: 'other'; bytes: Buffer } | { kind: 'silent' } | { kind: 'closed' } | { kind: 'error'; code: string };

function askHandshake(target: Target, address: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const socket: Socket = target.secure
      ? connectTls({ host: address, port: target.port, servername: tlsServerName(target.host), rejectUnauthorized: false })
      : connectTcp({ host: address, port: target.port });
    let received = Buffer.alloc(0);
    let answered = false;
    const finish = (answer: Answer) => {
      if (answered) return;
      answered = true;
      if (answer.kind !== 'http' || answer.status !== 101) {
        socket.destroy();
        resolve(answer);
        return;
      }
      // The server accepted a real WebSocket connection: say goodbye with a close frame, so its log
      // shows a clean close (1000) rather than a dropped connection (1006).
      const timer = setTimeout(() => socket.destroy(), timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(answer);
      });
      socket.end(closeFrame());
    };
    const judge = (final: boolean) => {
      if (received.length === 0) return final ? finish({ kind: 'closed' }) : undefined;
      const head = received.subarray(0, 5).toString('latin1');
      if (!'HTTP/'.startsWith(head.slice(0, Math.min(5, received.length)))) return finish({ kind: 'other', bytes: received });
      const lineEnd = received.indexOf('\r\n');
      if (lineEnd < 0) return final || received.length > 1024 ? finish({ kind: 'other', bytes: received }) : undefined;
      const match = /^HTTP\/\d(?:\.\d)? (\d{3}) ?(.*)$/.exec(received.subarray(0, lineEnd).toString('latin1'));
      return finish(match ? { kind: 'http', status: Number(match[1]), statusText: match[2] ?? '' } : { kind: 'other', bytes: received });
    };
    socket.setTimeout(timeoutMs, () => finish(received.length > 0 ? { kind: 'other', bytes: received } : { kind: 'silent' }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      judge(false);
    });
    socket.once('end', () => judge(true));
    // A server that writes and hangs up at once may reset the connection under our request: judge what it said.
    socket.on('error', (error: NodeJS.ErrnoException) =>
      received.length > 0 ? judge(true) : finish({ kind: 'error', code: error.code ?? error.message }),
    );
    socket.once(target.secure ? 'secureConnect' : 'connect', () => {
      socket.write(
        `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: resobridge-doctor\r\n\r\n`,
      );
    });
  });
}

export async function checkHttp(target: Target, address: string, timeoutMs: number): Promise<Check> {
  const base = { id: 'http', title: 'Speaks HTTP' };
  const plain = 'This is a plain socket server, not a WebSocket server. Resonite needs a WebSocket server (e.g. resobridge).';
  const answer = await askHandshake(target, address, timeoutMs);
  if (answer.kind !== 'http' && (await isSocketIo(target, address, timeoutMs))) {
    return { ...base, status: 'pass', message: 'it answers HTTP at /socket.io/ (a Socket.IO server)' };
  }
  switch (answer.kind) {
    case 'http':
      return { ...base, status: 'pass', message: `the handshake request got HTTP ${answer.status} ${answer.statusText}`.trimEnd() };
    case 'silent':
      return {
        ...base,
        status: 'fail',
        message: `it accepts connections but says nothing for ${timeoutMs} ms`,
        fix: `${plain} (A server that accepts and then hangs also stalls Resonite while it retries.)`,
      };
    case 'other':
      return { ...base, status: 'fail', message: `it answers with something that is not HTTP: ${preview(answer.bytes)}`, fix: plain };
    case 'closed':
      return { ...base, status: 'fail', message: 'it closes the connection without a word', fix: plain };
    case 'error':
      return { ...base, status: 'fail', message: `the connection failed: ${answer.code}`, fix: 'Check that the server is running and speaks HTTP/WebSocket on this port.' };
  }
}

/** A client's close frame with code 1000, masked as RFC 6455 requires of clients. */
function closeFrame(): Buffer {
  const mask = randomBytes(4);
  const payload = Buffer.from([0x03, 0xe8]);
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload.map((byte, index) => byte ^ (mask[index % 4] ?? 0))]);
}

function preview(bytes: Buffer): string {
  const text = bytes.subarray(0, 40).toString('utf8').replace(/[^\x20-\x7e]/g, '.');
  return `"${text}"${bytes.length > 40 ? '…' : ''}`;
}
