import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LatestEvery } from '../src/bridges/llm-answer.js';
import { Conversations } from '../src/bridges/llm-memory.js';
import { Hub, type Recipient } from '../src/hub/hub.js';
import { MemoryBroker } from '../src/hub/memory-broker.js';
import { createServer, type ServerOptions } from '../src/index.js';
import { parseLine } from '../src/protocol/line.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';
import { echoPlan, piecesOf, startLlmDouble, type Plan } from './doubles/llm.js';

type Answer = { partials: string[]; state: 'done' | 'error'; text: string; lines: string[] };

/** Reads one answer's lines (`<tag>|partial|…` … then done or error) as a world would receive them; others' questions (`ask|…`) are skipped. */
async function readAnswer(client: TestClient, tag = 'ai'): Promise<Answer> {
  const partials: string[] = [];
  const lines: string[] = [];
  for (;;) {
    const line = await client.next();
    if (line.startsWith('ask')) continue;
    lines.push(line);
    const [head, state = '', ...rest] = parseLine(line);
    assert.equal(head, tag, `an answer line: ${line}`);
    const text = rest.join('|');
    if (state === 'partial') partials.push(text);
    else if (state === 'done' || state === 'error') return { partials, state, text, lines };
    else assert.fail(`unexpected answer line: ${line}`);
  }
}

/** Every partial is a longer piece of the final answer than the one before. */
function assertGrowing(partials: string[], final: string): void {
  let previous = '';
  for (const partial of partials) {
    assert.ok(final.startsWith(partial), `partial ${JSON.stringify(partial)} is a beginning of ${JSON.stringify(final)}`);
    assert.ok(partial.length > previous.length, 'partials only grow');
    previous = partial;
  }
}

async function setup(t: Parameters<typeof startServer>[0], plan?: (body: Parameters<typeof echoPlan>[0], index: number) => Plan, bridge: Record<string, unknown> = {}, options: ServerOptions = {}) {
  const llm = await startLlmDouble(t, plan);
  const started = await startServer(t, { bridges: [{ type: 'llm', url: llm.url, model: 'tiny', channel: 'ai', ...bridge } as never], ...options });
  return { llm, ...started };
}

test('llm: ask|… in a channel streams partials, then the whole answer, to the asker only', { timeout: 30_000 }, async (t) => {
  const pieces = piecesOf('Hello there, traveller. The inn is to the north; mind the | and the 100%.', 2);
  const { llm, ws, server } = await setup(t, () => ({ kind: 'stream', pieces }), { system: 'You are an innkeeper.' });
  const alice = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  const bob = await TestClient.connect(t, ws('/channel/ai?name=Bob'));
  alice.send('ask|where is the inn?');
  const answer = await readAnswer(alice);
  const full = pieces.join('');
  assert.deepEqual([answer.state, answer.text], ['done', full]);
  assert.ok(answer.partials.length <= pieces.length, `no more partials (${answer.partials.length}) than pieces the model produced (${pieces.length})`);
  assertGrowing(answer.partials, full);
  // The escaped answer line, as a world reads it.
  assert.ok(answer.lines.at(-1)?.startsWith('ai|done|Hello there, traveller. The inn is to the north; mind the %7C and the 100%25.'));
  const [request] = await llm.received(1);
  assert.deepEqual(request?.body, {
    model: 'tiny',
    messages: [
      { role: 'system', content: 'You are an innkeeper.' },
      { role: 'user', content: 'where is the inn?' },
    ],
    stream: true,
  });
  assert.equal(request?.authorization, undefined, 'no key configured, none sent');
  // Bob hears the question (it is a channel) and nothing of the answer: the marker comes right after it.
  alice.send('marker');
  assert.equal(await bob.next(), 'ask|where is the inn?');
  assert.equal(await bob.next(), 'marker');
  assert.deepEqual(server.bridges().map(({ name, type, state }) => ({ name, type, state })), [{ name: 'llm-ai', type: 'llm', state: 'connected' }]);
});

test('llm: ask#7|… repeats the id on every line; answerTo: channel lets everyone hear', { timeout: 30_000 }, async (t) => {
  const { ws } = await setup(t, undefined, { answerTo: 'channel', partialMs: 0 });
  const alice = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  const bob = await TestClient.connect(t, ws('/channel/ai?name=Bob'));
  alice.send('ask#7|a|b');
  assert.equal(await bob.next(), 'ask#7|a|b');
  // partialMs: 0 sends only the final answer.
  assert.equal(await bob.next(), 'ai#7|done|echo: a%7Cb');
  assert.equal(await alice.next(), 'ai#7|done|echo: a%7Cb');
});

test('llm: the ask command in command mode answers on the connection, with the request id, in line or JSON', { timeout: 30_000 }, async (t) => {
  const { ws } = await setup(t, (body) => ({ kind: 'stream', pieces: piecesOf(`echo: ${body.messages.at(-1)?.content ?? ''}`, 4), gapMs: 5 }));
  const api = await TestClient.connect(t, ws('/api'));
  api.send('ask#q1|how are you?');
  const answer = await readAnswer(api, 'ai#q1');
  assert.deepEqual([answer.state, answer.text], ['done', 'echo: how are you?']);
  assertGrowing(answer.partials, answer.text);
  // Other commands are not held up by an answer on its way.
  assert.equal(await api.ask('ping'), 'pong');

  const json = await TestClient.connect(t, ws('/api?format=json'));
  json.send(JSON.stringify({ verb: 'ask', id: 9, question: 'hi' }));
  let last: Record<string, unknown>;
  do last = JSON.parse(await json.next()) as Record<string, unknown>;
  while (last.state === 'partial');
  assert.deepEqual(last, { type: 'ai', id: '9', state: 'done', text: 'echo: hi' });
  assert.equal(await api.ask('ask|  '), 'ai|error|the question is empty; ask something');
});

test('llm: a slow stream arrives in order, as growing partials, then done', { timeout: 30_000 }, async (t) => {
  const pieces = piecesOf('Once upon a time, in a world made of boxes, a robot learnt to wave.', 5);
  const { ws } = await setup(t, () => ({ kind: 'stream', pieces, gapMs: 15 }), { partialMs: 100 });
  const world = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  world.send('ask|a story');
  const answer = await readAnswer(world);
  assert.deepEqual([answer.state, answer.text], ['done', pieces.join('')]);
  assert.ok(answer.partials.length >= 1, 'a slow answer shows partials');
  assert.ok(answer.partials.length <= pieces.length);
  assertGrowing(answer.partials, answer.text);
});

test('llm: memory carries earlier turns, per asker, and drops the oldest past its bounds', { timeout: 30_000 }, async (t) => {
  const { llm, ws } = await setup(t, undefined, { memoryTurns: 2, partialMs: 0 });
  const alice = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  const bob = await TestClient.connect(t, ws('/channel/ai?name=Bob'));
  for (const question of ['one', 'two', 'three']) {
    alice.send(`ask|${question}`);
    assert.equal((await readAnswer(alice)).text, `echo: ${question}`);
  }
  alice.send('ask|four');
  await readAnswer(alice);
  const turns = (index: number) => llm.requests[index]?.body.messages.map((m) => `${m.role}:${m.content}`);
  assert.deepEqual(turns(1), ['user:one', 'assistant:echo: one', 'user:two']);
  assert.deepEqual(turns(3), ['user:two', 'assistant:echo: two', 'user:three', 'assistant:echo: three', 'user:four'], 'the oldest turn went');
  bob.send('ask|hello');
  await readAnswer(bob);
  assert.deepEqual(turns(4), ['user:hello'], "Bob does not get Alice's conversation");

  // By characters: "abcdefghij" + "echo: abcdefghij" is 26; two such turns do not fit in 40.
  const small = await setup(t, undefined, { memoryChars: 40, partialMs: 0, memory: 'channel' });
  const carol = await TestClient.connect(t, small.ws('/channel/ai?name=Carol'));
  const dave = await TestClient.connect(t, small.ws('/channel/ai?name=Dave'));
  carol.send('ask|abcdefghij');
  await readAnswer(carol);
  dave.send('ask|klmnopqrst');
  await readAnswer(dave);
  dave.send('ask|uvw');
  await readAnswer(dave);
  const shared = (index: number) => small.llm.requests[index]?.body.messages.map((m) => m.content);
  assert.deepEqual(shared(1), ['abcdefghij', 'echo: abcdefghij', 'klmnopqrst'], 'memory: channel shares one conversation');
  assert.deepEqual(shared(2), ['klmnopqrst', 'echo: klmnopqrst', 'uvw'], 'the oldest turn went to stay within memoryChars');
});

test('llm: concurrency bounds refuse at once with a clear error', { timeout: 30_000 }, async (t) => {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const { llm, ws } = await setup(t, (body, index) => (index === 0 ? { kind: 'held', pieces: ['wait'], release: held } : echoPlan(body)), { concurrent: 1, partialMs: 0 });
  const alice = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  const bob = await TestClient.connect(t, ws('/channel/ai?name=Bob'));
  alice.send('ask|first');
  await llm.received(1);
  bob.send('ask#2|second');
  assert.equal(await bob.next(), 'ask|first');
  assert.equal(await bob.next(), 'ai#2|error|busy: 1 question is being answered already (concurrent); ask again in a moment');
  assert.equal(await alice.next(), 'ask#2|second', 'Alice hears the question: it is a channel');
  release();
  assert.deepEqual(await readAnswer(alice).then((a) => [a.state, a.text]), ['done', 'wait']);
  bob.send('ask|third');
  assert.equal((await readAnswer(bob)).text, 'echo: third', 'free again once the answer is done');

  let releaseAgain = () => {};
  const heldAgain = new Promise<void>((resolve) => (releaseAgain = resolve));
  const per = await setup(t, (body, index) => (index === 0 ? { kind: 'held', pieces: ['ok'], release: heldAgain } : echoPlan(body)), { partialMs: 0 });
  const carol = await TestClient.connect(t, per.ws('/channel/ai?name=Carol'));
  carol.send('ask|one');
  await per.llm.received(1);
  carol.send('ask|two');
  assert.equal(await carol.next(), 'ai|error|you are still waiting for an answer (perAsker: 1); ask again when it has come');
  releaseAgain();
  assert.equal((await readAnswer(carol)).text, 'ok');
});

test('llm: an answer past maxAnswerChars is cut there and the request aborted', { timeout: 30_000 }, async (t) => {
  const { llm, ws } = await setup(t, () => ({ kind: 'hang', pieces: piecesOf('x'.repeat(500), 10) }), { maxAnswerChars: 25, partialMs: 0 });
  const world = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  world.send('ask|ramble');
  assert.equal(await world.next(), `ai|done|${'x'.repeat(25)}…`);
  const [request] = await llm.received(1);
  await request?.closed;
  assert.equal(request?.aborted, true, 'the bridge stopped reading and closed the request');
  world.send(`ask|${'too long '.repeat(200)}`);
  assert.match(await world.next(), /^ai\|error\|the question has 1799 characters, more than the 1000 allowed \(maxQuestionChars\)/);
});

test('llm: a timeout, a broken stream, HTTP errors and an unreachable server each give ai|error', { timeout: 30_000 }, async (t) => {
  const slow = await setup(t, () => ({ kind: 'hang', pieces: ['I am thinking'] }), { timeoutMs: 200, partialMs: 0 });
  const waiting = await TestClient.connect(t, slow.ws('/channel/ai?name=Alice'));
  waiting.send('ask|slow');
  assert.equal(
    await waiting.next(),
    'ai|error|no complete answer within 0.2 s (timeoutMs); the model may still be loading or be too slow: ask again, or ask for something shorter',
  );
  const [hung] = await slow.llm.received(1);
  await hung?.closed;
  assert.equal(hung?.aborted, true, 'the request was given up');

  let partialSeen = () => {};
  const after = new Promise<void>((resolve) => (partialSeen = resolve));
  const plans: Plan[] = [
    { kind: 'break', pieces: ['Hel', 'lo'], after },
    { kind: 'error', status: 404, message: 'model "tiny" not found, try pulling it first', type: 'api_error' },
    { kind: 'error', status: 500, message: 'llama runner process has terminated' },
  ];
  const { ws, server } = await setup(t, (_body, index) => plans[index] ?? { kind: 'stream', pieces: ['fine'] });
  const world = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  world.send('ask|broken');
  assert.match(await world.next(), /^ai\|partial\|Hel/);
  partialSeen();
  const broken = await readAnswer(world);
  assert.equal(broken.state, 'error');
  assert.match(broken.text, /^the model server broke off the answer \(.+\)$/, broken.text);
  world.send('ask|missing');
  assert.match(await world.next(), /^ai\|error\|the model server answered 404: model "tiny" not found, try pulling it first; check the url/);
  assert.equal(server.bridges()[0]?.state, 'failed', 'a missing model needs the config changed');
  world.send('ask|crash');
  assert.equal(await world.next(), 'ai|error|the model server answered 500: llama runner process has terminated');
  assert.equal(server.bridges()[0]?.state, 'retrying');
  world.send('ask|again');
  assert.deepEqual(await readAnswer(world).then((a) => [a.state, a.text]), ['done', 'fine']);
  assert.equal(server.bridges()[0]?.state, 'connected', 'healthy again after an answer');

  const closed = createHttpServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  const down = await startServer(t, { bridges: [{ type: 'llm', url: `http://127.0.0.1:${port}/v1`, model: 'tiny', channel: 'ai' }] });
  // Told at start, before anyone asks.
  while (down.server.bridges()[0]?.state === 'connecting') await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(down.server.bridges()[0], {
    name: 'llm-ai',
    type: 'llm',
    state: 'retrying',
    detail: `the model server at http://127.0.0.1:${port}/v1 cannot be reached (ECONNREFUSED); is it running (ollama serve, LM Studio's server, llama-server)?; each question tries again`,
  });
  const lonely = await TestClient.connect(t, down.ws('/channel/ai?name=Alice'));
  lonely.send('ask|anyone?');
  assert.equal(await lonely.next(), `ai|error|the model server at http://127.0.0.1:${port}/v1 cannot be reached (ECONNREFUSED); is it running (ollama serve, LM Studio's server, llama-server)?`);
  assert.equal(down.server.bridges()[0]?.state, 'retrying');
});

test('llm: an asker that leaves is not answered any more: the request is aborted', { timeout: 30_000 }, async (t) => {
  const { llm, ws } = await setup(t, () => ({ kind: 'stream', pieces: piecesOf('a long story '.repeat(40), 2), gapMs: 10 }), { partialMs: 100 });
  const world = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  world.send('ask|tell me everything');
  assert.match(await world.next(), /^ai\|partial\|/);
  world.socket.close();
  const [request] = await llm.received(1);
  await request?.closed;
  assert.equal(request?.aborted, true, 'the bridge closed the request when nobody was left to hear it');

  const api = await TestClient.connect(t, ws('/api'));
  api.send('ask|and you?');
  assert.match(await api.next(), /^ai\|partial\|/);
  api.socket.close();
  const [, second] = await llm.received(2);
  await second?.closed;
  assert.equal(second?.aborted, true, 'in command mode too');
});

test('llm: the API key is sent as a Bearer token and never appears in logs, answers or /healthz', { timeout: 30_000 }, async (t) => {
  const key = 'sk-test-0123456789abcdef';
  process.env.RESOBRIDGE_TEST_LLM_KEY = key;
  t.after(() => delete process.env.RESOBRIDGE_TEST_LLM_KEY);
  const log = capturedLogger();
  const { llm, ws, http } = await setup(
    t,
    (body, index) => (index === 0 ? echoPlan(body) : { kind: 'error', status: 401, message: `Incorrect API key provided: ${key}` }),
    { apiKey: { env: 'RESOBRIDGE_TEST_LLM_KEY' }, partialMs: 0 },
    { logger: log.logger, logLevel: 'debug' },
  );
  const world = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  world.send('ask|hi');
  assert.equal(await world.next(), 'ai|done|echo: hi');
  assert.equal(llm.requests[0]?.authorization, `Bearer ${key}`);
  while (llm.probes.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(llm.probes[0]?.authorization, `Bearer ${key}`, 'the check at start sends it too');
  world.send('ask|again');
  const error = await world.next();
  assert.equal(error, "ai|error|the model server answered 401: Incorrect API key provided: [secret]; check the bridge's apiKey");
  const health = await (await fetch(http('/healthz'))).text();
  assert.ok(health.includes('"type":"llm"'));
  for (const [where, text] of [['the logs', log.text()], ['/healthz', health]] as const) assert.ok(!text.includes(key), `the key is not in ${where}`);
  assert.ok(log.find('llm question not answered').length > 0, 'the failure was logged');
});

test('llm: bad settings name the bridge and the key; a taken verb says what to do', () => {
  const make = (bridges: unknown[]) => () => createServer({ port: 0, logLevel: 'silent', store: 'memory', bridges: bridges as never });
  assert.throws(make([{ type: 'llm', channel: 'ai' }]), /bridges.*\[0\]\.model: model is required: the name of the model to use/);
  assert.throws(make([{ type: 'llm', model: 'm', command: false }]), /an llm bridge needs a channel to answer in, command: true, or both/);
  assert.throws(make([{ type: 'llm', model: 'm', answerTo: 'channel' }]), /answerTo: channel needs a channel/);
  assert.throws(make([{ type: 'llm', model: 'm', partialMs: 20 }]), /partialMs is 0 \(no partial answers\) or at least 100/);
  assert.throws(make([{ type: 'llm', model: 'm', apiKey: 'sk-literal-secret', bogus: 1 }]), (error: Error) => !error.message.includes('sk-literal-secret') && /Unrecognized key/.test(error.message));
  assert.throws(make([{ type: 'llm', model: 'm' }, { type: 'llm', model: 'n', channel: 'b' }]), /bridge "llm-b": the command "ask" is taken .* set verb: to another word, or command: false/);
  assert.throws(make([{ type: 'llm', model: 'm', apiKey: { env: 'RESOBRIDGE_TEST_UNSET_KEY' } }]), /bridge "llm": apiKey: the environment variable RESOBRIDGE_TEST_UNSET_KEY is not set/);
});

test('llm pieces: partials keep only the latest text, first at once, then one per interval', async () => {
  const emitted: string[] = [];
  let second = () => {};
  const secondEmitted = new Promise<void>((resolve) => (second = resolve));
  // The clock stands still while values are offered (a busy machine must not make them look spaced out).
  const partials = new LatestEvery<string>(
    100,
    (text) => {
      emitted.push(text);
      if (emitted.length === 2) second();
    },
    () => 0,
  );
  for (let i = 1; i <= 50; i++) partials.offer('x'.repeat(i));
  assert.deepEqual(emitted, ['x'], 'the first goes at once, the rest wait');
  await secondEmitted;
  assert.deepEqual(emitted, ['x', 'x'.repeat(50)], 'of those that waited, only the latest went');
  partials.offer('late');
  partials.cancel();
  assert.equal(emitted.length, 2, 'cancelled: what waited is dropped');
  const none: string[] = [];
  new LatestEvery<string>(0, (text) => none.push(text)).offer('anything');
  assert.deepEqual(none, [], 'partialMs 0 sends no partials');
});

test('llm pieces: conversations are bounded by turns, characters and count; whispers coalesce', () => {
  const memory = new Conversations({ turns: 2, chars: 1_000, conversations: 2 });
  memory.remember('a', { question: '1', answer: 'one' });
  memory.remember('b', { question: '2', answer: 'two' });
  memory.recall('a');
  memory.remember('c', { question: '3', answer: 'three' });
  assert.deepEqual([memory.size, memory.recall('b')], [2, []], 'b was unused longest and went');
  memory.remember('a', { question: '4', answer: 'four' });
  memory.remember('a', { question: '5', answer: 'five' });
  assert.deepEqual(memory.recall('a').map((turn) => turn.question), ['4', '5']);
  const tight = new Conversations({ turns: 10, chars: 5, conversations: 10 });
  tight.remember('x', { question: 'too', answer: 'long' });
  assert.deepEqual(tight.recall('x'), [], 'a turn larger than memoryChars is not kept');

  // The hub hands a whispered stream's coalesce key to the connection's pacer, as it does for a publish.
  const hub = new Hub(new MemoryBroker(100));
  const deliveries: unknown[] = [];
  const recipient: Recipient = { name: 'Alice', encoding: 'line', send: (_text, delivery) => (deliveries.push(delivery), true) };
  hub.join('ai', recipient, { relay: true, echo: false, presence: false, history: 0 });
  assert.equal(hub.whisper({ type: 'message', channel: 'ai', senderName: 'llm', text: 'ai|partial|x', coalesce: 'llm:1' }, 'Alice'), 1);
  assert.equal(hub.whisper({ type: 'message', channel: 'ai', senderName: 'llm', text: 'hello' }, 'Alice'), 1);
  assert.deepEqual(deliveries, [{ coalesce: 'ai|llm:1' }, 'stream']);
});

test('llm: a redirect is not followed (the question and the key would go elsewhere): ai|error and a status that says to fix the url', { timeout: 30_000 }, async (t) => {
  const elsewhere: string[] = [];
  const other = createHttpServer((request, response) => {
    elsewhere.push(`${request.method ?? ''} ${request.url ?? ''}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}');
  }).listen(0, '127.0.0.1');
  await once(other, 'listening');
  t.after(() => other.close());
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  const moving = createHttpServer((request, response) => void response.writeHead(307, { location: `${otherUrl}${request.url ?? '/'}` }).end()).listen(0, '127.0.0.1');
  await once(moving, 'listening');
  t.after(() => moving.close());
  const url = `http://127.0.0.1:${(moving.address() as AddressInfo).port}/v1`;
  const { ws, server } = await startServer(t, { bridges: [{ type: 'llm', url, model: 'tiny', channel: 'ai', apiKey: 'sk-redirect-test' }] });
  while (server.bridges()[0]?.state === 'connecting') await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(server.bridges()[0]?.state, 'failed', 'the probe met the redirect: the url needs changing');
  const world = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  world.send('ask|where are you?');
  assert.equal(await world.next(), "ai|error|the model server answered 307 (a redirect); it is not followed: put the address it points to in the bridge's url");
  assert.deepEqual(elsewhere, [], 'nothing reached the address the redirect named');
});
