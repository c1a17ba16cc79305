import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from '../src/index.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';
import { jsonApi, resource } from './doubles/json-api.js';
import { LastPublished } from '../src/bridges/last-published.js';

/** Publishes a marker through command mode: a world receives it after everything published before it. */
async function marker(api: TestClient, channel: string, text = 'marker'): Promise<void> {
  assert.equal(await api.ask(`pub|${channel}|${text}`), `ok|pub|${channel}`);
}

test('http poll: ETag sent back, a 304 publishes nothing, a change publishes only the changed lines', { timeout: 30_000 }, async (t) => {
  const state = { json: { lights: [{ id: 'kitchen', on: true }, { id: 'hall', on: false }] } as unknown, etag: '"v1"' };
  const api = await jsonApi(t, { '/lights': resource(state) });
  const { ws } = await startServer(t, {
    bridges: [{ type: 'http', name: 'lights', poll: { url: api.url('/lights'), every: 1, channel: 'home', in: { lines: 'lights.["light", id, on]' } } }],
  });
  const world = await TestClient.connect(t, ws('/channel/home?name=World'));
  const cmd = await TestClient.connect(t, ws('/api'));
  // Polls run one after another: once the API sees poll n+1, poll n is published.
  await api.until(2);
  // The world may have joined after the first poll: what it got of it, if anything, is the two lines.
  await marker(cmd, 'home', 'm1');
  const first: string[] = [];
  for (let line = await world.next(); line !== 'm1'; line = await world.next()) first.push(line);
  assert.ok(first.length === 0 || first.join(',') === 'light|kitchen|true,light|hall|false', `got ${first.join(',')}`);
  assert.equal(api.received[1]?.headers['if-none-match'], '"v1"', 'the ETag is sent back');

  state.json = { lights: [{ id: 'kitchen', on: false }, { id: 'hall', on: false }] };
  state.etag = '"v2"';
  const seen = api.received.length;
  await api.until(seen + 2); // one poll got v2 (200), the next was a 304
  await marker(cmd, 'home', 'm2');
  assert.equal(await world.next(), 'light|kitchen|false', 'only the changed line');
  assert.equal(await world.next(), 'm2', 'and nothing for the 304s or the unchanged hall');
  assert.ok(api.received.slice(seen).some((request) => request.headers['if-none-match'] === '"v2"'));
});

test('http poll: Last-Modified sent back as If-Modified-Since; keys are set and a world watching them hears the changes', { timeout: 30_000 }, async (t) => {
  const state = { json: { temperature: 21.5, mode: 'heat' } as unknown, lastModified: new Date(Date.UTC(2026, 0, 1)).toUTCString() };
  const api = await jsonApi(t, { '/climate': resource(state) });
  const { ws } = await startServer(t, {
    bridges: [{ type: 'http', name: 'climate', poll: { url: api.url('/climate'), every: 1, ns: 'house', in: { keys: '{"temp": temperature, "mode": mode}' } } }],
  });
  await api.until(2);
  assert.equal(api.received[1]?.headers['if-modified-since'], state.lastModified);
  const world = await TestClient.connect(t, ws('/api?ns=house'));
  assert.equal(await world.ask('watch|temp'), 'value|temp|21.5');
  assert.equal(await world.ask('get|mode'), 'value|mode|heat');
  state.json = { temperature: 22, mode: 'heat' };
  state.lastModified = new Date(Date.UTC(2026, 0, 2)).toUTCString();
  assert.equal(await world.next(), 'value|temp|22');
});

test('http request: a command verb asks the API; the answer (with the request id) goes to that connection only', { timeout: 30_000 }, async (t) => {
  const api = await jsonApi(t, {
    '/weather': (request, response) => {
      const city = new URL(request.path, 'http://x').searchParams.get('city');
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ city, temp: 12.5 }));
    },
  });
  const { ws } = await startServer(t, {
    bridges: [
      {
        type: 'http',
        name: 'weather',
        request: { verb: 'ask', args: ['city'], url: `${api.url('/weather')}?city={args[0]}`, reply: '["weather", body.city, body.temp]' },
      },
    ],
  });
  const alice = await TestClient.connect(t, ws('/api?name=Alice'));
  const bob = await TestClient.connect(t, ws('/api?name=Bob'));
  assert.equal(await alice.ask('ask#7|São Paulo & co'), 'weather#7|São Paulo & co|12.5');
  assert.equal(api.received[0]?.path, '/weather?city=S%C3%A3o%20Paulo%20%26%20co', 'the field is percent-encoded into the query');
  assert.equal(await alice.ask('ask|Paris'), 'weather|Paris|12.5', 'no id, no id');
  assert.equal(await alice.ask('{"verb":"ask","city":"Oslo","id":"j1"}'), 'weather#j1|Oslo|12.5', 'JSON commands too');
  assert.match(await alice.ask('help|ask'), /^help\|ask\|ask%7C\[city\]: asks weather/);
  assert.equal(await bob.ask('ping'), 'pong', 'Bob got nothing of it');
});

test('http request: a field cannot climb out of its path segment with . or .. (a URL parser resolves them)', { timeout: 30_000 }, async (t) => {
  const api = await jsonApi(t, {
    '/api/public/item': (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    '/api/admin': (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"admin-only"}'),
  });
  const { ws } = await startServer(t, {
    bridges: [{ type: 'http', name: 'items', request: { verb: 'item', args: ['a', 'b'], url: `${api.url('/api/public/')}{args[0]}/{args[1]}`, reply: '["item", $string(body)]' } }],
  });
  const world = await TestClient.connect(t, ws('/api?name=Mallory'));
  assert.equal(await world.ask('item|..|admin'), 'error|items|the request could not be built: a field may not be . or .. in the URL\'s path (it would change which resource is asked)');
  assert.equal(await world.ask('item|.|item'), 'error|items|the request could not be built: a field may not be . or .. in the URL\'s path (it would change which resource is asked)');
  assert.equal(api.received.length, 0, 'nothing was sent');
  assert.equal(await world.ask('item|x..|y'), 'error|items|the API answered 404', 'dots inside a segment are a name like any other');
  assert.equal(api.received[0]?.path, '/api/public/x../y');
});

test('http request: a tagged channel line becomes a POST; the answer goes to the asking connection only, not to the channel nor to a namesake', { timeout: 30_000 }, async (t) => {
  const api = await jsonApi(t, {
    '/ask': (request, response) => {
      const { q, from } = JSON.parse(request.body) as { q: string; from: string };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer: `${from} asked: ${q}` }));
    },
  });
  const { ws } = await startServer(t, {
    bridges: [
      {
        type: 'http',
        name: 'oracle',
        request: { channel: 'ai', tags: ['ask'], method: 'POST', url: api.url('/ask'), body: '{"q": args[0], "from": from}', reply: '["answer", body.answer]' },
      },
    ],
  });
  const alice = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  // Another world that took the same name: the answers are the asking connection's alone.
  const bob = await TestClient.connect(t, ws('/channel/ai?name=Alice'));
  const cmd = await TestClient.connect(t, ws('/api'));
  alice.send('ask#9|What is 2%7C3?');
  assert.equal(await alice.next(), 'answer#9|Alice asked: What is 2%7C3?');
  assert.equal(api.received[0]?.headers['content-type'], 'application/json');
  alice.send('ask|again');
  assert.equal(await alice.next(), 'answer|Alice asked: again');
  alice.send('ask#no good|x');
  assert.equal(await alice.next(), 'error|oracle|bad request id after #: an id is 1 to 64 letters, digits, dots, dashes, colons or underscores');
  alice.send('chat|not a request');
  await marker(cmd, 'ai');
  assert.equal(await alice.next(), 'marker', 'a line with another tag is not a request');
  // The namesake hears Alice's lines on the channel, and not one answer.
  assert.deepEqual([await bob.next(), await bob.next(), await bob.next(), await bob.next(), await bob.next()], ['ask#9|What is 2%7C3?', 'ask|again', 'ask#no good|x', 'chat|not a request', 'marker']);
  assert.equal(api.received.length, 2);
});

test('http request: a timeout and a 5xx reach the asker as error|<bridge>|…; GET is retried, POST is not', { timeout: 30_000 }, async (t) => {
  let flaky = 0;
  const api = await jsonApi(t, {
    '/flaky': (_request, response) => {
      if (flaky++ % 3 < 2) response.writeHead(503).end();
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
    '/down': (_request, response) => void response.writeHead(500).end(),
    '/slow': (_request, response) => void setTimeout(() => response.writeHead(200).end('{}'), 5_000).unref(),
  });
  const { ws } = await startServer(t, {
    bridges: [
      { type: 'http', name: 'get', request: { verb: 'tryget', url: api.url('/flaky'), retryMs: 10, reply: '["got", body.ok]' } },
      { type: 'http', name: 'post', request: { verb: 'trypost', method: 'POST', url: api.url('/down'), body: '{"x": 1}', retryMs: 10 } },
      { type: 'http', name: 'slow', timeoutMs: 200, request: { verb: 'tryslow', method: 'POST', url: api.url('/slow') } },
    ],
  });
  const world = await TestClient.connect(t, ws('/api'));
  assert.equal(await world.ask('tryget#1'), 'got#1|true', 'two 503s, then the answer');
  assert.equal(api.to('/flaky').length, 3);
  assert.equal(await world.ask('trypost#2'), 'error#2|post|the API answered 500');
  assert.equal(api.to('/down').length, 1, 'a POST is tried once');
  assert.equal(await world.ask('tryslow#3'), 'error#3|slow|no answer within 200 ms (timeoutMs)');
});

test('http request: an answer over maxResponseBytes is abandoned, with or without Content-Length', { timeout: 30_000 }, async (t) => {
  const big = JSON.stringify({ text: 'x'.repeat(5_000) });
  const api = await jsonApi(t, {
    '/declared': (_request, response) => void response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big),
    '/chunked': (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 500) response.write(big.slice(i, i + 500));
      response.end();
    },
  });
  const { ws } = await startServer(t, {
    bridges: [
      { type: 'http', name: 'a', maxResponseBytes: 1_000, request: { verb: 'declared', url: api.url('/declared') } },
      { type: 'http', name: 'b', maxResponseBytes: 1_000, request: { verb: 'chunked', url: api.url('/chunked') } },
    ],
  });
  const world = await TestClient.connect(t, ws('/api'));
  assert.equal(await world.ask('declared#1'), 'error#1|a|the answer is over 1000 bytes (maxResponseBytes)');
  assert.equal(await world.ask('chunked#2'), 'error#2|b|the answer is over 1000 bytes (maxResponseBytes)');
  assert.equal(api.received.length, 2, 'too large is not retried');
});

test('http request: requests in flight are bounded per world and per bridge; the next commands do not wait for an answer', { timeout: 30_000 }, async (t) => {
  const routes: Parameters<typeof jsonApi>[1] = {};
  const api = await jsonApi(t, routes);
  routes['/held'] = api.hold();
  const { ws } = await startServer(t, {
    bridges: [{ type: 'http', name: 'llm', request: { verb: 'ask', url: api.url('/held'), maxInFlight: 2, maxInFlightPerWorld: 1, reply: '["said", body.text]' } }],
  });
  const alice = await TestClient.connect(t, ws('/api'));
  const bob = await TestClient.connect(t, ws('/api'));
  const carol = await TestClient.connect(t, ws('/api'));
  alice.send('ask#1|hello');
  await api.until(1);
  assert.equal(await alice.ask('ask#2|again'), 'error#2|llm|you have 1 requests waiting for an answer already (maxInFlightPerWorld); wait for one');
  assert.equal(await alice.ask('ping'), 'pong', 'other commands are answered meanwhile');
  bob.send('ask#3|hi');
  await api.until(2);
  assert.equal(await carol.ask('ask#4|hey'), 'error#4|llm|the bridge has 2 requests waiting for an answer already (maxInFlight); try again in a moment');
  api.release({ text: 'hi there' });
  assert.equal(await alice.next(), 'said#1|hi there');
  assert.equal(await bob.next(), 'said#3|hi there');
  assert.equal(api.received.length, 2, 'the refused ones never reached the API');
});

test('http: a redirect to another origin is not followed: the secret headers never leave for it', { timeout: 30_000 }, async (t) => {
  const elsewhere = await jsonApi(t, { '/collect': (_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end('{"got":"it"}') });
  const api = await jsonApi(t, {
    '/moved': (_request, response) => void response.writeHead(302, { location: elsewhere.url('/collect') }).end(),
  });
  const { ws } = await startServer(t, {
    bridges: [{ type: 'http', name: 'keyed', headers: { 'x-api-key': 'key-for-api-only' }, request: { verb: 'ask', url: api.url('/moved') } }],
  });
  const world = await TestClient.connect(t, ws('/api'));
  assert.match(await world.ask('ask|x'), /^error\|keyed\|the API answered 302 \(a redirect\)/);
  assert.equal(api.received.length, 1);
  assert.equal(elsewhere.received.length, 0, 'the other origin got no request, and so not the key');
});

test('http: a secret header reaches the API and appears nowhere else (log, /healthz, errors)', { timeout: 30_000 }, async (t) => {
  const secret = 'Bearer sk-very-secret-4711';
  process.env.RESOBRIDGE_TEST_HTTP_TOKEN = secret;
  t.after(() => delete process.env.RESOBRIDGE_TEST_HTTP_TOKEN);
  const api = await jsonApi(t, {
    '/broken': (_request, response) => void response.writeHead(503).end(),
    '/text': (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end('not json'),
  });
  const log = capturedLogger();
  const { ws, http } = await startServer(t, {
    logger: log.logger,
    bridges: [
      { type: 'http', name: 'guarded', headers: { authorization: { env: 'RESOBRIDGE_TEST_HTTP_TOKEN' } }, poll: { url: api.url('/text'), every: 1, channel: 'x', in: { lines: '$' } }, request: { verb: 'ask', url: api.url('/broken'), retryMs: 10, retries: 1 } },
    ],
  });
  const world = await TestClient.connect(t, ws('/api'));
  assert.equal(await world.ask('ask#1'), 'error#1|guarded|the API answered 503, 2 times');
  await api.until(2, (request) => request.path === '/text');
  assert.ok(api.received.every((request) => request.headers.authorization === secret), 'every request carries the header');
  const health = (await (await fetch(http('/healthz'))).json()) as { bridges: { name: string; state: string; detail: string }[] };
  const bridge = health.bridges.find((b) => b.name === 'guarded');
  assert.equal(bridge?.state, 'retrying');
  assert.match(bridge?.detail ?? '', /the answer is not JSON/);
  assert.ok(log.find('http bridge poll failed; retrying').length > 0);
  assert.ok(log.find('http bridge request failed').length > 0);
  const everything = `${log.text()}\n${JSON.stringify(health)}`;
  assert.ok(!everything.includes('sk-very-secret'), 'the secret is not in the log or /healthz');
});

test('http: bad config stops start-up naming the bridge and the setting', () => {
  const make = (spec: Record<string, unknown>) => () => createServer({ logLevel: 'silent', store: 'memory', bridges: [{ type: 'http', name: 'api', ...spec } as never] });
  assert.throws(make({ request: { verb: 'ask', url: 'http://127.0.0.1/x', reply: '[body.' } }), /bridge "api": request.reply.*at character/);
  assert.throws(make({ request: { verb: 'ask', url: 'http://{args[0]}/x' } }), /bridge "api": request.url: write the URL's scheme and host out/);
  assert.throws(make({ request: { verb: 'get', url: 'http://127.0.0.1/x' } }), /bridge "api": request.verb "get" is taken by another command/);
  assert.throws(make({ request: { verb: 'ask', method: 'GET', url: 'http://127.0.0.1/x', body: '{"a": 1}' } }), /a GET or HEAD request has no body/);
  assert.throws(make({ poll: { url: 'http://127.0.0.1/x', every: 0.1, in: { keys: '$' } } }), /every is in seconds, at least 1/);
  assert.throws(make({ poll: { url: 'http://127.0.0.1/x', in: { lines: '$' } } }), /poll.in.lines needs poll.channel/);
  assert.throws(make({ headers: { authorization: { env: 'RESOBRIDGE_TEST_UNSET_VAR' } }, request: { verb: 'ask', url: 'http://127.0.0.1/x' } }), /headers.authorization: the environment variable RESOBRIDGE_TEST_UNSET_VAR is not set/);
  assert.throws(make({ headers: { 'x-key': 'abc\r\nX-Evil: 1' }, request: { verb: 'ask', url: 'http://127.0.0.1/x' } }), (error: Error) => {
    assert.match(error.message, /headers.x-key: the value holds a line break/);
    assert.ok(!error.message.includes('abc'), 'the value is not quoted');
    return true;
  });
  // A config error elsewhere in the spec does not repeat a header value written in the config.
  assert.throws(make({ headers: { authorization: 'Bearer plain-4711' }, request: { verb: 'ask', url: 'ftp://x' } }), (error: Error) => {
    assert.match(error.message, /request.url: url must start with http/);
    assert.ok(!error.message.includes('plain-4711'), error.message);
    return true;
  });
});

test('http: what was last published is remembered per key, up to a bound (the oldest is forgotten first)', () => {
  const last = new LastPublished(2);
  assert.equal(last.changed('a', '1'), true);
  assert.equal(last.changed('a', '1'), false);
  assert.equal(last.changed('b', '1'), true);
  assert.equal(last.changed('a', '2'), true); // a is now the most recent
  assert.equal(last.changed('c', '1'), true); // b goes
  assert.equal(last.size, 2);
  assert.equal(last.changed('a', '2'), false);
  assert.equal(last.changed('b', '1'), true, 'forgotten: published again');
  assert.equal(last.changed('x', undefined), true, 'a deletion is a value too');
  assert.equal(last.changed('x', undefined), false);
});

test('http: what is remembered of published values is a digest, so its memory does not grow with the API\'s line sizes', () => {
  const last = new LastPublished(10_000);
  const big = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 1_000; i++) last.changed(`${i}|${big}`, `${big}${i}`);
  assert.equal(last.size, 1_000);
  // What the map holds, measured: bracket access reaches the private map (TypeScript allows it, for tests like this).
  const held = JSON.stringify([...last['values']]).length;
  assert.ok(held <= 1_000 * 128, `${held} characters held for 1,000 lines of 64 KiB (the lines themselves are 128 MiB)`);
  assert.equal(last.changed(`5|${big}`, `${big}5`), false, 'the same value is still recognised');
  assert.equal(last.changed(`5|${big}`, `${big}6`), true);
  assert.equal(last.changed('d', ''), true);
  assert.equal(last.changed('d', undefined), true, 'a deletion differs from an empty value');
});

test('http request: a command-mode member that pub\'d gets the answer as msg|…; an empty reply is ok|<tag>|<bridge>; a failing poll recovers', { timeout: 30_000 }, async (t) => {
  let calls = 0;
  const api = await jsonApi(t, {
    '/chat/completions': (request, response) => {
      const { messages } = JSON.parse(request.body) as { messages: { content: string }[] };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { content: `echo: ${messages[0]?.content}` } }] }));
    },
    '/lamp': (_request, response) => void response.writeHead(204).end(),
    '/state': (_request, response) => {
      if (calls++ === 0) response.writeHead(502).end();
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"on": true}');
    },
  });
  const { ws, server } = await startServer(t, {
    bridges: [
      {
        type: 'http',
        name: 'llm',
        request: {
          channel: 'npc',
          tags: ['say'],
          method: 'POST',
          url: api.url('/chat/completions'),
          body: '{"model": "llama3.2", "messages": [{"role": "user", "content": args[0]}]}',
          reply: '["npc", body.choices[0].message.content]',
        },
      },
      { type: 'http', name: 'lamp', poll: { url: api.url('/state'), every: 1, ns: 'home', in: { keys: '{"lamp": on}' } }, request: { verb: 'lamp', method: 'PUT', url: api.url('/lamp'), body: 'args[0]', reply: '$exists(body.nothing) ? ["never"]' } },
    ],
  });
  const member = await TestClient.connect(t, ws('/api?name=Tavern'));
  assert.equal(await member.ask('join|npc'), 'ok|join|npc');
  assert.equal(await member.ask('pub|npc|say#3|Hello!'), 'ok|pub|npc');
  assert.equal(await member.next(), 'msg|npc|llm|npc#3%7Cecho: Hello!', 'the answer line is the text field of msg');
  assert.equal(await member.ask('lamp#4|on'), 'ok#4|lamp|lamp', 'a 204 and a reply mapping that gives nothing');
  assert.equal(api.to('/lamp')[0]?.body, 'on');
  assert.equal(api.to('/lamp')[0]?.headers['content-type'], 'text/plain; charset=utf-8');
  await api.until(3, (request) => request.path === '/state');
  const status = server.bridges().find((bridge) => bridge.name === 'lamp');
  assert.equal(status?.state, 'connected', 'the 502 was retried and the next answer set it back');
  assert.match(status?.detail ?? '', /lamp → PUT http:\/\/127\.0\.0\.1:\d+\/lamp \(1 answered, 0 failed, 0 in flight\)/);
  assert.equal(await member.ask('{"verb":"get","key":"lamp"}'), 'missing|lamp', 'keys go to the bridge\'s ns');
  const home = await TestClient.connect(t, ws('/api?ns=home'));
  assert.equal(await home.ask('get|lamp'), 'value|lamp|true');
});
