import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { parseIrcLine, unescapeTagValue } from '../src/bridges/irc.js';
import { SendLimiter } from '../src/bridges/send-limit.js';
import { colorLiteral } from '../src/bridges/twitch.js';
import { createServer, type ServerOptions } from '../src/index.js';
import type { PacerClock } from '../src/server/pacer.js';
import { LINES, TwitchDouble } from './doubles/twitch.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';

const TOKEN = 'abcdefghijklmnopqrstuvwxyz0123';

type Bridges = NonNullable<ServerOptions['bridges']>;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), `not reached within 10 s: ${what}`);
}

/** A server with one twitch bridge on the double, and a world in its channel; waits until the bridge joined. */
async function setUp(t: TestContext, bridge: Record<string, unknown> = {}, options: ServerOptions = {}, doubleToken?: string, join = true) {
  const twitch = await TwitchDouble.start(t, { token: doubleToken });
  const spec = { type: 'twitch', channel: 'bar', url: twitch.url, ...bridge } as Bridges[number];
  const started = await startServer(t, { bridges: [spec], ...options });
  const state = () => started.server.bridges()[0]?.state;
  if (join) await until(() => state() === 'connected', 'the bridge joined #bar');
  const world = await TestClient.connect(t, started.ws('/channel/twitch?name=world'));
  return { ...started, twitch, world, state };
}

test('IRCv3 tag values are unescaped as the spec says; lines parse into tags, prefix, command, params', () => {
  assert.equal(unescapeTagValue('a\\sb\\:c\\\\d\\re\\nf'), 'a b;c\\d\re\nf');
  assert.equal(unescapeTagValue('x\\qy\\'), 'xqy', 'an unknown escape drops the backslash; a trailing one goes');
  const message = parseIrcLine(LINES.resub('dallas'));
  assert.ok(message);
  assert.equal(message.command, 'USERNOTICE');
  assert.equal(message.prefix, 'tmi.twitch.tv');
  assert.deepEqual(message.params, ['#dallas', 'Great stream -- keep it up!']);
  assert.equal(message.tags.get('system-msg'), 'ronni has subscribed for 6 months!');
  assert.equal(message.tags.get('badge-info'), '');
  assert.deepEqual(parseIrcLine('PING :tmi.twitch.tv')?.params, ['tmi.twitch.tv']);
  assert.equal(parseIrcLine('@only-tags'), undefined);
  assert.equal(colorLiteral('#1E90FF'), '[0.118;0.565;1;1]');
  assert.equal(colorLiteral(''), '');
});

test('the send limit never lets more than `limit` go in a window; it queues, then refuses', () => {
  let now = 0;
  const timers: { at: number; run: () => void }[] = [];
  const clock: PacerClock = {
    now: () => now,
    setTimer: (run, ms) => {
      const timer = { at: now + ms, run };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => timers.splice(timers.indexOf(timer as (typeof timers)[number]), 1),
  };
  const sentAt: number[] = [];
  const limiter = new SendLimiter<number>(20, 30_000, 5, () => sentAt.push(now), clock);
  const offers = Array.from({ length: 30 }, (_, i) => limiter.offer(i));
  assert.equal(offers.filter((o) => o === 'sent').length, 20);
  assert.equal(offers.filter((o) => o === 'queued').length, 5);
  assert.equal(offers.filter((o) => o === 'refused').length, 5);
  for (let step = 0; step < 10 && timers.length > 0; step++) {
    const next = timers.sort((a, b) => a.at - b.at).shift();
    now = next?.at ?? now;
    next?.run();
  }
  assert.equal(sentAt.length, 25, 'the queued ones went once the window had room');
  for (const at of sentAt) assert.ok(sentAt.filter((other) => other >= at && other < at + 30_000).length <= 20, 'never more than 20 in any 30 s');
});

test('Twitch → world: chat, bits, subs, resubs, gifts, raids and other notices, each its own line, read anonymously', async (t) => {
  const { twitch, world } = await setUp(t);
  const [session] = twitch.joinedTo('bar');
  assert.ok(session);
  assert.equal(session.lines[0], 'CAP REQ :twitch.tv/tags twitch.tv/commands');
  assert.match(session.lines[1] ?? '', /^NICK justinfan\d+$/);
  assert.equal(session.lines[2], 'JOIN #bar');
  assert.ok(!session.lines.some((line) => line.startsWith('PASS')), 'anonymous: no PASS');

  for (const line of [LINES.privmsg, LINES.bits, LINES.resub, LINES.sub, LINES.subgift, LINES.raid, LINES.announcement]) twitch.broadcast(line('bar'), 'bar');
  twitch.broadcast(LINES.privmsg('elsewhere'), 'bar');
  twitch.broadcast('@color=;display-name=A\\sB\\:C\\\\D;badges= :ab!ab@ab.tmi.twitch.tv PRIVMSG #bar :50% off | today\x01', 'bar');
  twitch.broadcast(':ab!ab@ab.tmi.twitch.tv PRIVMSG #bar :\x01ACTION waves\x01', 'bar');
  assert.equal(await world.next(), 'chat|foofoo|bleedPurple');
  assert.equal(await world.next(), 'bits|ronni|100|cheer100');
  assert.equal(await world.next(), 'resub|ronni|prime|6|Great stream -- keep it up!');
  assert.equal(await world.next(), 'sub|new_viewer|1|1|');
  assert.equal(await world.next(), 'subgift|TWW2|1|Mr_Woodchuck');
  assert.equal(await world.next(), 'raid|TestChannel|15');
  assert.equal(await world.next(), 'event|announcement|Bar||Hello everyone!');
  assert.equal(await world.next(), 'chat|A B;C\\D|50%25 off %7C today', 'tag escapes undone, fields escaped by the codec, control characters gone');
  assert.equal(await world.next(), 'chat|ab|waves', 'a /me, and a display name from the prefix when there is no tag');
  assert.deepEqual(world.pending, [], 'another channel’s chat is not relayed');
});

test('details: true puts the color (as a color literal) and badges before the text', async (t) => {
  const { twitch, world } = await setUp(t, { details: true });
  twitch.broadcast(LINES.privmsg('bar'), 'bar');
  assert.equal(await world.next(), 'chat|foofoo|[0;0;1;1]|broadcaster/1|bleedPurple');
  twitch.broadcast(LINES.bits('bar').replace('bits=100;', ''), 'bar');
  assert.equal(await world.next(), 'chat|ronni||staff/1,bits/1000|cheer100', 'no color chosen: an empty field');
});

test('PING gets PONG; RECONNECT reconnects and joins again, and chat keeps coming', async (t) => {
  const { twitch, world, server } = await setUp(t);
  twitch.broadcast(LINES.ping);
  await twitch.until(() => twitch.sessions[0]?.lines.includes('PONG :tmi.twitch.tv') === true, 'PONG :tmi.twitch.tv');
  twitch.broadcast(LINES.reconnect);
  await twitch.until(() => twitch.sessions.length === 2 && twitch.joinedTo('bar').length === 1 && twitch.joinedTo('bar')[0] === twitch.sessions[1], 'a second session joined #bar');
  await until(() => server.bridges()[0]?.state === 'connected', 'connected again');
  twitch.broadcast(LINES.privmsg('bar'), 'bar');
  assert.equal(await world.next(), 'chat|foofoo|bleedPurple');
});

test('a server that says RECONNECT on every connection gets backoff, not a reconnect storm', async (t) => {
  const { twitch, server } = await setUp(t);
  // A hostile or broken peer: RECONNECT to every session that joined, over and over.
  const nag = setInterval(() => twitch.broadcast(LINES.reconnect, 'bar'), 5);
  t.after(() => clearInterval(nag));
  await twitch.until(() => twitch.sessions.length >= 3, 'a third session');
  await until(() => server.bridges()[0]?.state === 'retrying', 'retrying with a delay');
  assert.match(server.bridges()[0]?.detail ?? '', /asked to reconnect again .*; reconnecting in \d+ s/);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.ok(twitch.sessions.length <= 5, `${twitch.sessions.length} connections in a few seconds: the retries back off`);
});

test('a dropped connection is retried with backoff and the channel joined again', async (t) => {
  const { twitch, world, server } = await setUp(t);
  for (const session of twitch.sessions) session.socket.terminate();
  await until(() => server.bridges()[0]?.state === 'retrying', 'retrying');
  assert.match(server.bridges()[0]?.detail ?? '', /closed \(1006\); reconnecting in 1 s/);
  await until(() => server.bridges()[0]?.state === 'connected', 'connected again');
  twitch.broadcast(LINES.privmsg('bar'), 'bar');
  assert.equal(await world.next(), 'chat|foofoo|bleedPurple');
});

test('chat is not coalesced: a world that falls behind gets every line it can, in order, and dropped|n for the rest', async (t) => {
  const { twitch, world } = await setUp(t, {}, { outboundRate: 20, outboundBurst: 2, outboundQueue: 5 });
  const total = 60;
  for (let i = 0; i < total; i++) twitch.broadcast(`:v!v@v.tmi.twitch.tv PRIVMSG #bar :m${i}`, 'bar');
  let delivered: number[] = [];
  let dropped = 0;
  while (delivered.length + dropped < total) {
    const text = await world.next();
    const notice = /^dropped\|(\d+)$/.exec(text);
    if (notice) dropped += Number(notice[1]);
    else delivered = [...delivered, Number(text.replace('chat|v|m', ''))];
  }
  assert.ok(dropped > 0, 'a flood into a queue of 5 drops some');
  assert.equal(delivered.length + dropped, total);
  assert.deepEqual(delivered, [...delivered].sort((a, b) => a - b), 'in order');
  assert.equal(delivered.at(-1), total - 1, 'the newest arrive');
});

test('say|… goes to Twitch as one PRIVMSG; line breaks cannot smuggle in another command', async (t) => {
  process.env.TWITCH_TEST_TOKEN = TOKEN;
  t.after(() => delete process.env.TWITCH_TEST_TOKEN);
  const { twitch, world } = await setUp(t, { login: 'MyBot', token: { env: 'TWITCH_TEST_TOKEN' } }, {}, TOKEN);
  const [session] = twitch.joinedTo('bar');
  assert.equal(session?.lines[1], `PASS oauth:${TOKEN}`);
  assert.equal(session?.lines[2], 'NICK mybot');
  world.send('say|hello chat');
  world.send('say|50%25 off%0D%0AJOIN #evil');
  world.send('say|not%7Ca field');
  await twitch.until(() => twitch.said('bar').length === 3, 'three PRIVMSGs');
  assert.deepEqual(twitch.said('bar'), ['hello chat', '50% off JOIN #evil', 'not|a field']);
  assert.ok(!session?.lines.some((line) => line.startsWith('JOIN #evil')));
  world.send('say|');
  assert.equal(await world.next(), 'error|twitch|say needs text: say%7C<text>');
  world.send(`say|${'x'.repeat(501)}`);
  assert.match(await world.next(), /^error\|twitch\|Twitch takes at most 500 characters per message \(this one has 501\); not sent$/);
});

test('the send limit holds on the wire: 30 quick says, at most 20 reach Twitch in the window, the rest wait or are refused', async (t) => {
  const captured = capturedLogger();
  const { twitch, world, http } = await setUp(t, { login: 'mybot', token: TOKEN, sendQueue: 5 }, { inboundRate: 0, logger: captured.logger }, TOKEN);
  for (let i = 0; i < 30; i++) world.send(`say|m${i}`);
  const refusals = [];
  for (let i = 0; i < 5; i++) refusals.push(await world.next());
  for (const refusal of refusals) assert.equal(refusal, 'error|twitch|too many messages: Twitch allows 20 per 30 s and 5 are already waiting; not sent');
  // A PING answered means every line the bridge wrote before it has arrived.
  twitch.broadcast(LINES.ping);
  await twitch.until(() => twitch.sessions[0]?.lines.includes('PONG :tmi.twitch.tv') === true, 'PONG');
  assert.deepEqual(twitch.said('bar'), Array.from({ length: 20 }, (_, i) => `m${i}`), 'the first 20 went; 5 wait for the window, 5 were refused');
  const health = await (await fetch(http('/healthz'))).text();
  assert.match(health, /"state":"connected","detail":"#bar on ws:\/\/127\.0\.0\.1:\d+ → channel twitch, as mybot \(say\|… sends, 20 per 30 s\)"/);
  for (const text of [health, captured.text()]) assert.ok(!text.includes(TOKEN), 'the token leaked');
});

test('read-only: say|… is refused with a clear error to the sender only', async (t) => {
  const { ws } = await setUp(t);
  const world = await TestClient.connect(t, ws('/channel/twitch?name=speaker'));
  const other = await TestClient.connect(t, ws('/channel/twitch?name=other'));
  world.send('say|hi');
  assert.equal(await world.next(), 'error|twitch|this bridge reads chat only; to send, give it a login and a token (docs/bridges.md, twitch)');
  assert.equal(await other.next(), 'say|hi', 'the relay itself is unchanged');
  assert.deepEqual(other.pending, []);
});

test('a refused login fails for good with a detail that says the token is wrong, and no retries; the token is never shown', async (t) => {
  const captured = capturedLogger();
  const { twitch, server, http } = await setUp(t, { login: 'mybot', token: TOKEN }, { logger: captured.logger }, 'the-right-token', false);
  await until(() => server.bridges()[0]?.state === 'failed', 'failed');
  const detail = server.bridges()[0]?.detail ?? '';
  assert.match(detail, /Twitch refused the login of mybot \("Login authentication failed"\): the token is wrong, expired or not mybot's\. Get a user access token/);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // longer than the first backoff step: a retry would have come
  assert.equal(twitch.sessions.length, 1, 'no retry storm: one attempt');
  const health = await (await fetch(http('/healthz'))).text();
  assert.match(health, /"state":"failed"/);
  for (const text of [health, captured.text(), detail]) assert.ok(!text.includes(TOKEN), 'the token leaked');
});

test('bad config names the bridge key and what is allowed', () => {
  const make = (spec: Record<string, unknown>) => () => createServer({ logLevel: 'silent', store: 'memory', bridges: [{ type: 'twitch', ...spec } as Bridges[number]] });
  assert.throws(make({ channel: 'bar', token: TOKEN }), (error: Error) => {
    assert.match(error.message, /bridges.*\[0\]: login and token go together/);
    assert.ok(!error.message.includes(TOKEN), `the token is repeated in: ${error.message}`);
    assert.match(error.message, /a value not shown here, as it holds secrets/);
    return true;
  });
  const asText = () => createServer({ logLevel: 'silent', store: 'memory', bridges: JSON.stringify([{ type: 'twitch', channel: 'bar', token: TOKEN }]) as never });
  assert.throws(asText, (error: Error) => !error.message.includes(TOKEN) && /login and token go together/.test(error.message));
  assert.throws(make({ channel: 'no spaces' }), /a Twitch login is 1 to 25 letters, digits or underscores/);
  assert.throws(make({ channel: 'bar', sendLimit: 500 }), /Twitch allows at most 100 messages per 30 s/);
  assert.throws(make({ channel: 'bar', login: 'x', token: { env: 'RESOBRIDGE_TEST_NO_SUCH_VAR' } }), /bridge "twitch-bar": token: the environment variable RESOBRIDGE_TEST_NO_SUCH_VAR is not set/);
});
