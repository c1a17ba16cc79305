/**
 * The Pacer on its own, driven by a fake clock: what a world receives under
 * overload, measured in the pacer's own terms (tokens, windows of its rate),
 * exactly and independent of the machine's load.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer, type Delivery, type PacerClock, type PacerOptions } from '../src/server/pacer.js';
import { TextFrame } from '../src/protocol/text-frame.js';

/** Time that moves only when told; timers run in time order. */
class FakeClock implements PacerClock {
  time = 0;
  private timers: { at: number; run: () => void }[] = [];

  now(): number {
    return this.time;
  }

  setTimer(run: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, run };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(timer: unknown): void {
    this.timers = this.timers.filter((waiting) => waiting !== timer);
  }

  /** Runs every timer due up to `until`, each at its own time, then stops at `until`. */
  advanceTo(until: number): void {
    for (;;) {
      const next = this.timers.reduce<{ at: number; run: () => void } | undefined>((soonest, timer) => (!soonest || timer.at < soonest.at ? timer : soonest), undefined);
      if (!next || next.at > until) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = next.at;
      next.run();
    }
    this.time = until;
  }
}

interface Written {
  at: number;
  text: string;
}

function pacer(options: Partial<PacerOptions> = {}, congested: () => boolean = () => false) {
  const clock = new FakeClock();
  const written: Written[] = [];
  const instance = new Pacer(
    { rate: 20, burst: 10, queueLimit: 200, maxAgeMs: 2_000, ...options },
    (frame) => written.push({ at: clock.now(), text: frame.text }),
    congested,
    (count) => TextFrame.of(`dropped|${count}`),
    clock,
  );
  return { clock, written, pacer: instance };
}

const isNotice = (text: string) => text.startsWith('dropped|');
const noticeCount = (text: string) => Number(text.split('|')[1]);

test('fed at 1.3 × its rate for 30 s, a world gets its rate in messages, one notice a second at most, and prompt replies', () => {
  const rate = 20;
  const maxAgeMs = 2_000;
  const { clock, written, pacer: p } = pacer({ rate, maxAgeMs });
  const feedEveryMs = 1000 / (rate * 1.3);
  const durationMs = 30_000;
  const sentAt = new Map<string, number>();
  const pings: { at: number; reply: string }[] = [];
  let fed = 0;
  let nextPing = 500;
  for (let at = 0; at < durationMs; at += feedEveryMs) {
    clock.advanceTo(at);
    const text = `m${fed++}`;
    sentAt.set(text, at);
    p.push(TextFrame.of(text), 'stream');
    if (at >= nextPing) {
      const reply = `pong${pings.length}`;
      pings.push({ at, reply });
      p.push(TextFrame.of(reply), 'reply');
      nextPing += 1_000;
    }
  }
  clock.advanceTo(durationMs + 5_000);

  // Windows of one second each, after the first (the burst); the feed stops at 30 s.
  for (let start = 1_000; start < durationMs; start += 1_000) {
    const inWindow = written.filter(({ at }) => at >= start && at < start + 1_000);
    const notices = inWindow.filter(({ text }) => isNotice(text));
    const delivered = inWindow.length - notices.length;
    assert.ok(delivered >= 0.9 * rate, `window at ${start} ms: ${delivered} messages and replies, at least 90 % of ${rate}`);
    assert.ok(notices.length <= 1, `window at ${start} ms: ${notices.length} drop notices, at most one`);
  }
  for (const { at, reply } of pings) {
    const index = written.findIndex(({ text }) => text === reply);
    assert.ok(index >= 0, `${reply} was sent`);
    const before = written.filter((entry, i) => i < index && entry.at >= at).length;
    assert.ok(before <= 1, `${reply}: ${before} messages went between the ping and its reply (at most one tick)`);
  }
  for (const { at, text } of written) {
    const sent = sentAt.get(text);
    if (sent !== undefined) assert.ok(at - sent <= maxAgeMs, `${text} waited ${at - sent} ms, over the age bound`);
  }
  const messages = written.filter(({ text }) => text.startsWith('m'));
  const droppedTold = written.filter(({ text }) => isNotice(text)).reduce((sum, { text }) => sum + noticeCount(text), 0);
  assert.equal(messages.length + droppedTold, fed, 'every message is delivered or counted in a notice');
  assert.equal(p.droppedTotal, droppedTold);
  assert.equal(p.queued, 0);
  assert.equal(p.bytes, 0, 'nothing waits, no bytes counted');
});

test('with a slow rate, notices take at most a tenth of the budget', () => {
  const { clock, written, pacer: p } = pacer({ rate: 2, burst: 1, queueLimit: 5, maxAgeMs: 0 });
  for (let at = 0; at < 60_000; at += 100) {
    clock.advanceTo(at);
    p.push(TextFrame.of(`m${at}`), 'stream');
  }
  clock.advanceTo(60_000);
  const notices = written.filter(({ text }) => isNotice(text)).length;
  assert.ok(notices > 0);
  assert.ok(notices <= written.length / 10 + 1, `${notices} notices of ${written.length} messages`);
});

test('a history replay is not dropped for its age; live channel messages are', () => {
  const { clock, written, pacer: p } = pacer({ rate: 30, burst: 10, queueLimit: 200, maxAgeMs: 1_000 });
  for (let i = 0; i < 100; i++) p.push(TextFrame.of(`h${i}`), 'history');
  for (let i = 0; i < 50; i++) p.push(TextFrame.of(`live${i}`), 'stream');
  clock.advanceTo(20_000);
  const history = written.filter(({ text }) => text.startsWith('h'));
  assert.equal(history.length, 100, 'the whole replay arrives, though it takes 3 s at 30/s');
  const live = written.filter(({ text }) => text.startsWith('live'));
  assert.equal(live.length, 0, 'live messages waiting behind it for more than 1 s were dropped');
  assert.deepEqual(written.filter(({ text }) => isNotice(text)).map(({ text }) => text), ['dropped|50']);
});

test('watched values coalesce in place and are never dropped for age; bytes are counted while they wait', () => {
  const { clock, written, pacer: p } = pacer({ rate: 10, burst: 1, maxAgeMs: 100 });
  const hp: Delivery = { coalesce: 'value:hp' };
  p.push(TextFrame.of('first'), 'stream');
  for (let i = 1; i <= 50; i++) p.push(TextFrame.of(`value|hp|${i}`), hp);
  p.push(TextFrame.of('m'), 'stream');
  assert.equal(p.queued, 2);
  assert.equal(p.bytes, Buffer.byteLength('value|hp|50') + Buffer.byteLength('m') + 2 * 64);
  clock.advanceTo(5_000);
  assert.deepEqual(
    written.map(({ text }) => text),
    ['first', 'value|hp|50', 'dropped|1'],
    'the latest value, in the place of the first; the channel message waited past its age',
  );
  assert.equal(p.bytes, 0);
});

test('while shedding (over the byte bound) channel messages are dropped, replies still wait', () => {
  const { clock, written, pacer: p } = pacer({ rate: 10, burst: 1 });
  p.push(TextFrame.of('sent at once'), 'stream');
  p.push(TextFrame.of('c1'), 'stream');
  p.push(TextFrame.of('r1'), 'reply');
  p.shedding = true;
  p.shed();
  p.push(TextFrame.of('c2'), 'stream');
  p.push(TextFrame.of('r2'), 'reply');
  assert.equal(p.queued, 2);
  clock.advanceTo(1_000);
  assert.deepEqual(
    written.map(({ text }) => text),
    ['sent at once', 'r1', 'r2', 'dropped|2'],
  );
});

test('nothing is written while the socket is congested; all of it follows when it clears', () => {
  let congested = true;
  const { clock, written, pacer: p } = pacer({ rate: 100, burst: 100, maxAgeMs: 0 }, () => congested);
  for (let i = 0; i < 5; i++) p.push(TextFrame.of(`r${i}`), 'reply');
  clock.advanceTo(1_000);
  assert.equal(written.length, 0);
  congested = false;
  clock.advanceTo(1_100);
  assert.deepEqual(
    written.map(({ text }) => text),
    ['r0', 'r1', 'r2', 'r3', 'r4'],
  );
});
