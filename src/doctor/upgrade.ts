/**
 * Check 7: the WebSocket upgrade gets 101. A 200 or 404 means a plain web
 * server (or a wrong path); a Socket.IO server is recognised and named, since
 * Resonite cannot talk to Socket.IO.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { bodySummary } from '../util/body-summary.js';
import type { Check } from './report.js';
import type { Target } from './target.js';
import { tlsServerName } from './tls.js';

/** What the open socket has received so far; the later checks read it. */
export interface Inbox {
  messages: { text: string; at: number }[];
  binaryFrames: number;
  pings: number;
  lastTraffic: number;
  closed?: { code: number; reason: string; at: number };
  /** Called on anything new. */
  changed: () => void;
}

const SOCKET_IO = /^\d*:?0\{"sid"/;
const SOCKET_IO_FIX = 'Resonite speaks plain WebSocket and cannot talk to Socket.IO. Use a plain WebSocket server (such as resobridge) for the world.';

export async function checkUpgrade(target: Target, address: string, timeoutMs: number): Promise<{ check: Check; socket?: WebSocket; inbox?: Inbox }> {
  const base = { id: 'upgrade', title: 'WebSocket upgrade' };
  const outcome = await open(target, address, timeoutMs);
  if (outcome.kind === 'open') {
    return { check: { ...base, status: 'pass', message: `accepted (101 Switching Protocols) in ${outcome.ms} ms` }, socket: outcome.socket, inbox: outcome.inbox };
  }
  if (await isSocketIo(target, address, timeoutMs)) {
    return { check: { ...base, status: 'fail', message: 'this is a Socket.IO server', fix: SOCKET_IO_FIX } };
  }
  if (outcome.kind === 'timeout') {
    return {
      check: {
        ...base,
        status: 'fail',
        message: `no answer to the WebSocket handshake within ${timeoutMs} ms`,
        fix: 'The server must answer every handshake at once; one that hangs stalls Resonite while it retries.',
      },
    };
  }
  if (outcome.kind === 'error') {
    return { check: { ...base, status: 'fail', message: `the handshake failed: ${outcome.message}`, fix: 'This does not look like a WebSocket server at this URL.' } };
  }
  // The server's own words, as they are: they often quote a name themselves.
  const said = outcome.body ? `; the server says: ${outcome.body}` : '';
  const status = `HTTP ${outcome.status}`;
  if (outcome.status === 404) {
    return { check: { ...base, status: 'fail', message: `${status}: nothing at ${target.path} takes WebSocket connections${said}`, fix: 'Check the path in the URL; the server\'s banner or docs list the working ones.' } };
  }
  if (outcome.status >= 200 && outcome.status < 300) {
    return { check: { ...base, status: 'fail', message: `${status}: a plain web server answers here, not a WebSocket server${said}`, fix: 'Point the URL at a WebSocket server (and its WebSocket path).' } };
  }
  if (outcome.status === 401 || outcome.status === 403) {
    return { check: { ...base, status: 'fail', message: `${status}: the server refused the connection${said}`, fix: 'It may need a token in the URL (?token=…); Resonite cannot send headers.' } };
  }
  return { check: { ...base, status: 'fail', message: `${status} instead of 101${said}`, fix: 'The server refused the WebSocket handshake; its answer above may say why.' } };
}

type Opened =
  | { kind: 'open'; socket: WebSocket; inbox: Inbox; ms: number }
  | { kind: 'refused'; status: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string };

function open(target: Target, address: string, timeoutMs: number): Promise<Opened> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = new WebSocket(target.url, {
      handshakeTimeout: timeoutMs,
      rejectUnauthorized: false,
      perMessageDeflate: false,
      lookup: pinnedLookup(address),
    });
    const inbox: Inbox = { messages: [], binaryFrames: 0, pings: 0, lastTraffic: Date.now(), changed: () => {} };
    socket.on('message', (data, isBinary) => {
      inbox.lastTraffic = Date.now();
      if (isBinary) inbox.binaryFrames++;
      else inbox.messages.push({ text: String(data), at: performance.now() });
      inbox.changed();
    });
    socket.on('ping', () => {
      inbox.lastTraffic = Date.now();
      inbox.pings++;
      inbox.changed();
    });
    socket.once('close', (code, reason) => {
      inbox.closed = { code, reason: reason.toString(), at: Date.now() };
      inbox.changed();
    });
    socket.once('open', () => resolve({ kind: 'open', socket, inbox, ms: Math.round(performance.now() - started) }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      const done = () => resolve({ kind: 'refused', status: response.statusCode ?? 0, body: bodySummary(body) });
      response.once('end', done);
      response.on('error', done);
      setTimeout(done, 500).unref();
    });
    socket.on('error', (error) => {
      resolve(/timed out/i.test(error.message) ? { kind: 'timeout' } : { kind: 'error', message: error.message });
    });
  });
}

/** A DNS lookup that always answers `address`: the upgrade goes where the TCP check connected. */
function pinnedLookup(address: string) {
  const family = address.includes(':') ? 6 : 4;
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as import('node:net').LookupFunction;
}

/** Socket.IO answers a long-polling handshake at /socket.io/ with its open packet `0{"sid":…}`. */
export function isSocketIo(target: Target, address: string, timeoutMs: number): Promise<boolean> {
  const request = target.secure ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(
      {
        host: address,
        port: target.port,
        path: '/socket.io/?EIO=4&transport=polling',
        headers: { host: `${target.host}:${target.port}` },
        timeout: timeoutMs,
        rejectUnauthorized: false,
        servername: tlsServerName(target.host),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > 64) response.destroy();
        });
        response.once('close', () => resolve(SOCKET_IO.test(body)));
      },
    );
    req.once('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function looksLikeSocketIo(text: string): boolean {
  return SOCKET_IO.test(text);
}

export { SOCKET_IO_FIX };
