/**
 * Checks 8 to 10, on the open connection: a text round trip (or a first
 * message), no binary frames, and (with --idle) that a quiet connection stays
 * up past Resonite's 60 s idle timeout.
 */
import WebSocket from 'ws';
import type { Check } from './report.js';
import { looksLikeSocketIo, SOCKET_IO_FIX, type Inbox } from './upgrade.js';

/** Resolves when `test` holds, or after `ms`. */
function until(inbox: Inbox, test: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      inbox.changed = () => {};
      resolve();
    };
    const timer = setTimeout(done, ms);
    inbox.changed = () => {
      if (test()) done();
    };
    if (test()) done();
  });
}

const quote = (text: string) => `"${text.length > 60 ? `${text.slice(0, 60)}…` : text}"`;

export async function checkRoundTrip(socket: WebSocket, inbox: Inbox, windowMs: number, probe: string): Promise<Check> {
  const base = { id: 'roundtrip', title: 'Round trip' };
  const started = performance.now();
  const spokeFirst = inbox.messages.length > 0;
  if (!spokeFirst && !inbox.closed) socket.send(probe);
  await until(inbox, () => inbox.messages.length > 0 || inbox.binaryFrames > 0 || inbox.closed !== undefined, windowMs);
  const first = inbox.messages[0];
  if (first && looksLikeSocketIo(first.text)) return { ...base, status: 'fail', message: `the first message is a Socket.IO handshake: ${quote(first.text)}`, fix: SOCKET_IO_FIX };
  if (first) {
    const ms = Math.max(0, Math.round(first.at - started));
    return { ...base, status: 'pass', message: spokeFirst ? `the server spoke first: ${quote(first.text)}` : `sent ${quote(probe)}, got ${quote(first.text)} in ${ms} ms` };
  }
  if (inbox.closed) {
    return {
      ...base,
      status: 'fail',
      message: `the server closed the connection right away (code ${inbox.closed.code}${inbox.closed.reason ? `, "${inbox.closed.reason}"` : ''})`,
      fix: 'A world would see OnDisconnected with no reason; check the server\'s log.',
    };
  }
  if (inbox.binaryFrames > 0) return { ...base, status: 'fail', message: 'the only answer was a binary frame', fix: 'Send text messages only.' };
  return {
    ...base,
    status: 'warn',
    message: `no text came back within ${windowMs} ms of sending ${quote(probe)}`,
    fix: 'Fine for a channel with nobody else in it, or a server that only pushes; an echo or command server should answer.',
  };
}

export function checkTextOnly(inbox: Inbox): Check {
  const base = { id: 'text', title: 'Text only' };
  if (inbox.binaryFrames > 0) {
    return {
      ...base,
      status: 'fail',
      message: `the server sent ${inbox.binaryFrames} binary frame${inbox.binaryFrames === 1 ? '' : 's'}: Resonite cannot receive binary`,
      fix: 'Send every message as text (in ws: socket.send(string), never a Buffer).',
    };
  }
  return { ...base, status: 'pass', message: 'no binary frames' };
}

export interface IdleOptions {
  /** How long to stay connected without sending (default 65 s). */
  durationMs: number;
  /** Silence after which Resonite drops the connection (60 s). */
  silenceLimitMs: number;
}

export async function checkIdle(inbox: Inbox, options: IdleOptions): Promise<Check> {
  const base = { id: 'idle', title: 'Idle keepalive' };
  const started = Date.now();
  const pingsBefore = inbox.pings;
  let longestSilence = 0;
  let last = Math.max(inbox.lastTraffic, started);
  const note = () => {
    longestSilence = Math.max(longestSilence, inbox.lastTraffic - last);
    last = inbox.lastTraffic;
  };
  await until(
    inbox,
    () => {
      note();
      return inbox.closed !== undefined;
    },
    options.durationMs,
  );
  longestSilence = Math.max(longestSilence, (inbox.closed?.at ?? Date.now()) - last);
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  if (inbox.closed) {
    return {
      ...base,
      status: 'fail',
      message: `the server closed a quiet connection after ${seconds(inbox.closed.at - started)} (code ${inbox.closed.code})`,
      fix: 'Resonite worlds are often quiet for minutes: keep idle connections open and send protocol pings every 20-25 s.',
    };
  }
  if (longestSilence >= options.silenceLimitMs) {
    return {
      ...base,
      status: 'fail',
      message: `the server sent nothing for ${seconds(longestSilence)}: Resonite drops a connection after 60 s without traffic`,
      fix: 'Send protocol pings every 20-25 s (they never reach the world\'s logic).',
    };
  }
  return { ...base, status: 'pass', message: `a quiet connection stayed up for ${seconds(Date.now() - started)} (${inbox.pings - pingsBefore} pings, longest silence ${seconds(longestSilence)})` };
}

/**
 * Ends the doctor's connection with a close handshake (1000), so the server's log shows a
 * clean goodbye rather than a dropped connection (1006). A server that does not answer
 * the close within `timeoutMs` is cut.
 */
export async function closeCleanly(socket: WebSocket, inbox: Inbox, timeoutMs: number): Promise<void> {
  if (inbox.closed || socket.readyState === WebSocket.CLOSED) return;
  if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'doctor done');
  await until(inbox, () => inbox.closed !== undefined, timeoutMs);
  socket.terminate();
}
