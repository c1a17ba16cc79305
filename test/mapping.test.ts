/** JSONata mappings: app JSON → world lines and keys, world lines → app JSON, within limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Expression, InMapping, MappingError, OutMapping, MAPPING_MAX_ITEMS, MAPPING_MAX_OUT_BYTES } from '../src/bridges/mapping.js';

const obsEvent = { op: 5, d: { eventType: 'CurrentProgramSceneChanged', eventData: { sceneName: 'Intro | 2%' } } };

test('in: fields are written with the protocol codec, numbers in invariant culture', async () => {
  const mapping = new InMapping({ when: 'op = 5', lines: '["scene", d.eventData.sceneName, 0.00000015, true, null, {"a": 1}]' }, 'bridge "obs": in');
  const { lines, keys } = await mapping.apply(obsEvent);
  assert.deepEqual(lines, [{ text: 'scene|Intro %7C 2%25|0.00000015|true||{"a":1}', key: 'scene|Intro %7C 2%25' }]);
  assert.deepEqual(keys, []);
  assert.deepEqual((await mapping.apply({ op: 7 })).lines, [], 'when: false drops the message');
});

test('in: a list of lines, and keys to set or delete', async () => {
  const mapping = new InMapping({ lines: 'states.["ha", id, state]', keys: '$merge(states.{id: state})' }, 'in');
  const { lines, keys } = await mapping.apply({ states: [{ id: 'light.a', state: 'on' }, { id: 'light.b', state: null }] });
  assert.deepEqual(lines.map((line) => line.text), ['ha|light.a|on', 'ha|light.b|']);
  assert.deepEqual(keys, [['light.a', 'on'], ['light.b', undefined]]);
  const one = await mapping.apply({ states: [{ id: 'light.a', state: 'off' }] });
  assert.deepEqual(one.lines.map((line) => line.text), ['ha|light.a|off'], 'a single match is one line');
});

test('in: plain text that is not JSON is given as a string', async () => {
  const mapping = new InMapping({ lines: '["said", $]' }, 'in');
  assert.deepEqual((await mapping.apply(InMapping.input('hello | there'))).lines[0]?.text, 'said|hello %7C there');
  assert.deepEqual(InMapping.input('{"a":1}'), { a: 1 });
});

test('in: keys that break the key rule, non-finite numbers and too many lines are errors that name the setting', async () => {
  await assert.rejects(new InMapping({ keys: '{" score": 1}' }, 'bridge "x": in').apply({}), /bridge "x": in\.keys: the key " score" starts with a space/);
  await assert.rejects(new InMapping({ lines: '["n", 1/0]' }, 'in').apply({}), /in\.lines: .*/);
  await assert.rejects(new InMapping({ lines: `[1..${MAPPING_MAX_ITEMS + 1}].["n", $]` }, 'in').apply({}), /over the limit of 100 per message/);
});

test('a bad expression stops start-up naming the bridge, the setting and the position', () => {
  assert.throws(() => new InMapping({ lines: '["scene", d.eventData.sceneName' }, 'bridge "obs": in'), (error: Error) => {
    assert.ok(error instanceof MappingError);
    assert.match(error.message, /^bridge "obs": in\.lines: the JSONata expression has an error at character \d+: /);
    return true;
  });
  assert.throws(() => new OutMapping({ scene: '{"a": }' }, 'bridge "obs": out'), /bridge "obs": out\.scene: the JSONata expression has an error/);
});

test('a runaway expression is stopped by its limits (sequence length, depth, time), and the next evaluation runs normally', async () => {
  const range = new Expression('$count([1..10000000])', 'in.lines');
  await assert.rejects(range.evaluate({}), /in\.lines: The maximum sequence length of \d+ was exceeded/);
  const deep = new Expression('($f := function($n) { 1 + $f($n + 1) }; $f(0))', 'in.lines');
  await assert.rejects(deep.evaluate({}), /in\.lines: Stack overflow/);
  // A tail call does not nest: only the time limit stops it.
  const loop = new Expression('($f := function($n) { $f($n + 1) }; $f(0))', 'in.lines');
  await assert.rejects(loop.evaluate({}), /in\.lines: Evaluation timeout after 1000 milliseconds/);
  assert.equal(await new Expression('1 + 1', 'x').evaluate({}), 2);
});

test('a width from a world cannot make $pad build a huge string in one step (the time limit cannot stop a single step)', async () => {
  const bar = new OutMapping({ progress: '{"text": $pad("", $number(args[0]), "#")}' }, 'out');
  assert.equal(await bar.apply('progress|5', 'w', 'c'), '{"text":"#####"}');
  assert.equal(await bar.apply('progress|-3', 'w', 'c'), '{"text":"###"}');
  await assert.rejects(bar.apply('progress|100000000', 'w', 'c'), /out\.progress: \$pad to 100000000 characters is over the limit of 1048576/);
});

test('out: a world line is parsed by the codec and the expression for its tag builds the JSON', async () => {
  const mapping = new OutMapping(
    { scene: '{"requestType": "SetCurrentProgramScene", "requestData": {"sceneName": args[0]}, "from": from}', '*': 'tag = "raw" ? args[0] : undefined' },
    'out',
  );
  assert.equal(await mapping.apply('scene|Intro %7C 2', 'Alice', 'obs'), '{"requestType":"SetCurrentProgramScene","requestData":{"sceneName":"Intro | 2"},"from":"Alice"}');
  assert.equal(await mapping.apply('raw|{"op":1}', 'Alice', 'obs'), '{"op":1}', 'a string is sent as it is');
  assert.equal(await mapping.apply('other|x', 'Alice', 'obs'), undefined, 'undefined: nothing is sent');
  const big = new OutMapping({ big: '$join([1..11].$pad("", 100000, "x"))' }, 'out');
  await assert.rejects(big.apply('big', 'A', 'c'), new RegExp(`over the ${MAPPING_MAX_OUT_BYTES}-byte limit`));
});
