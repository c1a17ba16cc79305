import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startServer, TestClient } from './helpers.js';

async function api(t: TestContext, query = '') {
  const { ws } = await startServer(t);
  const connect = (q = query) => TestClient.connect(t, ws(`/api${q}`));
  return { client: await connect(), connect, ws };
}

const ask = (client: TestClient, text: string) => client.ask(text);

test('ping answers pong, and a request id comes back in the reply', async (t) => {
  const { client } = await api(t);
  assert.equal(await ask(client, 'ping'), 'pong');
  assert.equal(await ask(client, 'ping#7'), 'pong#7');
  assert.equal(await ask(client, 'PING'), 'pong', 'verbs are case-insensitive');
});

test('command mode is also at /', async (t) => {
  const { ws } = await startServer(t);
  const client = await TestClient.connect(t, ws('/'));
  assert.equal(await ask(client, 'ping'), 'pong');
});

test('set, get, del and missing keys', async (t) => {
  const { client } = await api(t);
  assert.equal(await ask(client, 'get|score'), 'missing|score');
  assert.equal(await ask(client, 'set|score|42'), 'ok|set|score');
  assert.equal(await ask(client, 'get|score'), 'value|score|42');
  assert.equal(await ask(client, 'set#a1|score|43'), 'ok#a1|set|score');
  assert.equal(await ask(client, 'get#a2|score'), 'value#a2|score|43');
  assert.equal(await ask(client, 'del|score'), 'ok|del|score');
  assert.equal(await ask(client, 'get|score'), 'missing|score');
});

test('values with | are kept (the last field takes the rest) and sent back escaped', async (t) => {
  const { client } = await api(t);
  assert.equal(await ask(client, 'set|motd|a|b'), 'ok|set|motd');
  assert.equal(await ask(client, 'get|motd'), 'value|motd|a%7Cb');
  assert.equal(await ask(client, 'set|pct|100%25 sure%0Aok'), 'ok|set|pct');
  assert.equal(await ask(client, 'get|pct'), 'value|pct|100%25 sure%0Aok');
  assert.equal(await ask(client, 'set|sp|hello%20world'), 'ok|set|sp', 'EscapeUriDataString output is decoded');
  assert.equal(await ask(client, 'get|sp'), 'value|sp|hello world');
  assert.equal(await ask(client, 'set|empty|'), 'ok|set|empty');
  assert.equal(await ask(client, 'get|empty'), 'value|empty|');
});

test('keys lists keys with a prefix, sorted, with a count', async (t) => {
  const { client } = await api(t);
  for (const key of ['player.b', 'player.a', 'other']) await ask(client, `set|${key}|1`);
  assert.equal(await ask(client, 'keys|player.'), 'keys|player.|2|player.a|player.b');
  assert.equal(await ask(client, 'keys'), 'keys||3|other|player.a|player.b');
  assert.equal(await ask(client, 'keys|none'), 'keys|none|0');
});

test('incr adds to a number, from 0 when missing; a non-number is an error', async (t) => {
  const { client } = await api(t);
  assert.equal(await ask(client, 'incr|visits'), 'value|visits|1');
  assert.equal(await ask(client, 'incr|visits|5'), 'value|visits|6');
  assert.equal(await ask(client, 'incr|visits|-1.5'), 'value|visits|4.5');
  await ask(client, 'set|name|Bob');
  assert.equal(await ask(client, 'incr|name'), 'error|incr|cannot add to "name": its value "Bob" is not a number');
  assert.equal(await ask(client, 'incr|visits|lots'), 'error|incr|n must be a number such as 2.5 or -3 (2,5 works too) (got "lots")');
  // A German or French world's FormatString writes a decimal comma; hex is not a number here.
  assert.equal(await ask(client, 'incr|speed|0,25'), 'value|speed|0.25');
  assert.equal(await ask(client, 'incr|speed|-1,5'), 'value|speed|-1.25');
  assert.match(await ask(client, 'incr|speed|0x10'), /^error\|incr\|n must be a number such as 2\.5/);
  assert.match(await ask(client, 'incr|speed|1,000,5'), /^error\|incr\|n must be a number/);
  assert.match(await ask(client, 'incr|speed|Infinity'), /^error\|incr\|n must be a number/);
  assert.equal(await ask(client, 'incr|speed|1e1'), 'value|speed|8.75');
});

test('incr never rounds: past 2^53 it refuses; small results are written without exponents', async (t) => {
  const { client } = await api(t);
  await ask(client, 'set|big|9007199254740990');
  assert.equal(await ask(client, 'incr|big'), 'value|big|9007199254740991');
  assert.equal(await ask(client, 'incr|big'), 'error|incr|cannot add to "big": the result would be beyond ±9007199254740991, the largest number counted exactly');
  assert.equal(await ask(client, 'get|big'), 'value|big|9007199254740991', 'the stored value is unchanged');
  await ask(client, 'set|huge|123456789012345678901');
  assert.match(await ask(client, 'incr|huge'), /^error\|incr\|cannot add to "huge": the result would be beyond/);
  assert.equal(await ask(client, 'incr|tiny|0.0000001'), 'value|tiny|0.0000001');
});

test('watch pushes every change made by any client; unwatch stops it', async (t) => {
  const { client: watcher, connect } = await api(t);
  const other = await connect();
  assert.equal(await ask(watcher, 'watch|score'), 'missing|score');
  await ask(other, 'set|score|5');
  assert.equal(await watcher.next(), 'value|score|5');
  await ask(other, 'incr|score|2');
  assert.equal(await watcher.next(), 'value|score|7');
  await ask(other, 'del|score');
  assert.equal(await watcher.next(), 'missing|score');
  assert.equal(await ask(watcher, 'unwatch|score'), 'ok|unwatch|score');
  await ask(other, 'set|score|9');
  assert.equal(await ask(watcher, 'ping'), 'pong', 'no push after unwatch');
  assert.equal(await ask(watcher, 'watch|score'), 'value|score|9', 'watch answers the current value');
});

test('members lists who is in a channel, once per connection, sorted; relay members count too', async (t) => {
  const { connect, ws } = await api(t, '?name=Zoe');
  const zoe = await connect();
  assert.equal(await ask(zoe, 'members|room'), 'members|room|0|0');
  const bob = await connect('?name=Bob');
  await ask(bob, 'join|room');
  await ask(zoe, 'join|room');
  await TestClient.connect(t, ws('/channel/room?name=Bob'));
  assert.equal(await ask(zoe, 'members|room'), 'members|room|3|3|Bob|Bob|Zoe');
  await ask(bob, 'leave|room');
  assert.equal(await ask(zoe, 'members|room'), 'members|room|2|2|Bob|Zoe');
  assert.match(await ask(zoe, 'members|no good'), /^error\|members\|"no good" is not a valid channel name/);
});

test('the watcher who makes the change gets the push before its own reply', async (t) => {
  const { client } = await api(t);
  await ask(client, 'watch|hp');
  assert.equal(await ask(client, 'set|hp|10'), 'value|hp|10');
  assert.equal(await client.next(), 'ok|set|hp');
});

test('join, pub and leave: channel messages arrive as msg|channel|from|text', async (t) => {
  const { client: alice, connect, ws } = await api(t, '?name=Alice');
  const bob = await connect('?name=Bob&presence=1');
  const relay = await TestClient.connect(t, ws('/channel/lobby?name=Relay'));
  assert.equal(await ask(bob, 'join|lobby'), 'ok|join|lobby');
  assert.equal(await ask(alice, 'join|lobby'), 'ok|join|lobby');
  assert.equal(await bob.next(), 'joined|lobby|Alice');
  assert.equal(await ask(alice, 'pub|lobby|hi|there'), 'ok|pub|lobby');
  assert.equal(await bob.next(), 'msg|lobby|Alice|hi%7Cthere');
  assert.equal(await relay.next(), 'hi|there', 'relay members get the text as it was sent');
  relay.send('from the relay');
  assert.equal(await bob.next(), 'msg|lobby|Relay|from the relay');
  assert.equal(await alice.next(), 'msg|lobby|Relay|from the relay');
  assert.equal(await ask(alice, 'leave|lobby'), 'ok|leave|lobby');
  assert.equal(await bob.next(), 'left|lobby|Alice');
  relay.send('after');
  assert.equal(await bob.next(), 'msg|lobby|Relay|after');
  assert.equal(await ask(alice, 'ping'), 'pong', 'alice left: nothing more for her');
});

test('pub without joining reaches members; join with history replays', async (t) => {
  const { client, connect } = await api(t, '?name=Poster');
  for (const text of ['one', 'two', 'three']) assert.equal(await ask(client, `pub|news|${text}`), 'ok|pub|news');
  const reader = await connect();
  assert.equal(await ask(reader, 'join|news|2'), 'ok|join|news');
  assert.equal(await reader.next(), 'msg|news|Poster|two');
  assert.equal(await reader.next(), 'msg|news|Poster|three');
});

test('namespaces keep worlds\' keys apart', async (t) => {
  const { client: a, connect } = await api(t, '?ns=world-a');
  const b = await connect('?ns=world-b');
  const shared = await connect('');
  await ask(a, 'set|score|1');
  await ask(b, 'set|score|2');
  assert.equal(await ask(a, 'get|score'), 'value|score|1');
  assert.equal(await ask(b, 'get|score'), 'value|score|2');
  assert.equal(await ask(shared, 'get|score'), 'missing|score');
});

test('JSON requests, and JSON replies with ?format=json', async (t) => {
  const { client: world, connect } = await api(t);
  const app = await connect('?format=json');
  assert.equal(await ask(world, '{"verb":"set","key":"k","value":"v|w","id":1}'), 'ok#1|set|k');
  assert.deepEqual(JSON.parse(await ask(app, '{"verb":"get","key":"k","id":"q"}')), { type: 'value', id: 'q', key: 'k', value: 'v|w' });
  assert.deepEqual(JSON.parse(await ask(app, 'keys')), { type: 'keys', prefix: '', count: 1, keys: ['k'] });
  assert.deepEqual(JSON.parse(await ask(app, '{"verb":"incr","key":"n","n":2.5}')), { type: 'value', key: 'n', value: 2.5 });
  assert.deepEqual(JSON.parse(await ask(app, '{"verb":"get"}')), { type: 'error', topic: 'get', text: 'key is missing; send get|<key>' }, 'JSON needs no escaping');
  assert.deepEqual(JSON.parse(await ask(app, '{"verb":"get","kee":"x"}')), {
    type: 'error',
    topic: 'get',
    text: 'unknown property "kee"; get takes key',
  });
});

test('every malformed or unknown command gets error|verb|… and the connection stays up', async (t) => {
  const { client } = await api(t);
  const cases: [string, string][] = [
    ['frob|x', 'error|frob|unknown command "frob"; send help for the list of commands'],
    ['get', 'error|get|key is missing; send get%7C<key>'],
    ['get|a|b', 'error|get|too many fields (2); send get%7C<key> and escape a %7C inside a field as %257C'],
    ['join|bad name', 'error|join|"bad name" is not a valid channel name: 1 to 64 letters, digits, dots, dashes or underscores (e.g. lobby, my-world.chat)'],
    ['join|lobby|x', 'error|join|history must be a whole number from 0 to 100 (got "x")'],
    ['', 'error|request|the message is empty; send a command such as ping, or help for the list'],
    ['|x', 'error|request|the command is missing before the first %7C; e.g. get%7Cscore'],
    ['get#bad id|x', 'error|get|bad request id "bad id": an id is 1 to 64 letters, digits, dots, dashes, colons or underscores'],
    ['{"verb":', 'error|json|not valid JSON (Unexpected end of JSON input); send e.g. {"verb":"get","key":"score"}'],
    ['{"key":"x"}', 'error|json|the "verb" property is missing; e.g. {"verb":"get","key":"score"}'],
    ['get#e1|', 'error#e1|get|the key is empty; give a key name, e.g. score'],
  ];
  for (const [request, reply] of cases) assert.equal(await ask(client, request), reply, request);
  assert.equal(await ask(client, 'ping'), 'pong');
});

test('key and value size limits give clear errors', async (t) => {
  const { ws } = await startServer(t, { maxKeyBytes: 8, maxValueBytes: 10 });
  const client = await TestClient.connect(t, ws('/api'));
  assert.equal(await ask(client, 'set|123456789|v'), 'error|set|the key is 9 bytes; keys may have up to 8 bytes');
  assert.equal(await ask(client, 'set|k|12345678901'), 'error|set|the value is 11 bytes; this server keeps values of up to 10 bytes');
  assert.equal(await ask(client, 'set|k|1234567890'), 'ok|set|k');
});

test('keys with whitespace at either end or control characters are refused, saying which character; values stay as sent', async (t) => {
  const { client } = await api(t);
  const rule = /\(keys may not start or end with whitespace, nor contain control characters\)$/;
  // A trailing space after the value belongs to the value.
  assert.equal(await ask(client, 'set|score|42 '), 'ok|set|score');
  assert.equal(await ask(client, 'get|score'), 'value|score|42 ');
  // An Enter after the key: refused, not a second key "score⏎".
  const enter = await ask(client, 'get|score\n');
  assert.match(enter, /^error\|get\|the key "score\\n" ends with a line feed \(U\+000A\): trim it/);
  assert.match(enter, rule);
  assert.match(await ask(client, 'set| score|1'), /^error\|set\|the key " score" starts with a space \(U\+0020\): trim it/);
  assert.match(await ask(client, 'set|score%09|1'), /^error\|set\|the key "score\\t" ends with a tab \(U\+0009\)/);
  assert.match(await ask(client, 'watch|a%00b'), /^error\|watch\|the key "a\\u0000b" contains a NUL character \(U\+0000\): remove it/);
  assert.match(await ask(client, 'del|score%C2%A0'), /^error\|del\|the key "score\u00a0" ends with a no-break space \(U\+00A0\)/);
  assert.match(await ask(client, 'incr|%1Bscore'), /^error\|incr\|the key "\\u001bscore" starts with a control character \(U\+001B\)/);
  assert.match(await ask(client, '{"verb":"set","key":"score\\r\\n","value":"1"}'), /^error\|set\|the key "score\\r\\n" ends with a carriage return \(U\+000D\): trim it/);
  assert.equal(await ask(client, 'keys'), 'keys||1|score', 'no second key was made');
  // Spaces inside a key are fine; values keep whitespace and control characters exactly.
  assert.equal(await ask(client, 'set|high score|%20two%0Alines%09'), 'ok|set|high score');
  assert.equal(await ask(client, 'get|high score'), 'value|high score| two%0Alines\t');
});

test('help lists the verbs; help|verb tells how to use one', async (t) => {
  const { client } = await api(t);
  assert.equal(await ask(client, 'help'), 'help|ping help join leave members pub get set del keys incr watch unwatch');
  assert.equal(await ask(client, 'help|set'), 'help|set|set%7C<key>%7C<value>: store a value under a key (kept across restarts); the value may contain %7C');
  assert.equal(await ask(client, 'help|nope'), 'error|help|there is no command "nope"; send help for the list');
});

test('bad query options on /api get an error and the defaults', async (t) => {
  const { client } = await api(t, '?format=xml&ns=has space');
  assert.equal(await client.next(), 'error|query|format must be one of line, json (got "xml")');
  assert.equal(await client.next(), 'error|query|ns must be 1 to 64 letters, digits, dots, dashes or underscores; using "default" (got "has space")');
  assert.equal(await ask(client, 'ping'), 'pong');
});
