/** Property tests of the line codec and request parser: round trips, and no input that throws. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { escapeField, formatLine, parseLine, unescapeField } from '../src/protocol/line.js';
import { parseRequest } from '../src/protocol/request.js';
import { Message } from '../src/protocol/message.js';
import { messages, SERVER_TAGS } from '../src/protocol/messages.js';
import { color, formatValue, vec } from '../src/protocol/values.js';

const anyText = fc.string({ unit: 'binary' });

test('decode(encode(fields)) == fields, for any fields', () => {
  fc.assert(
    fc.property(fc.array(anyText, { minLength: 1, maxLength: 8 }), (fields) => {
      const [first = '', ...rest] = fields;
      assert.deepEqual(parseLine(formatLine(escapeField(first), ...rest)), fields);
    }),
    { numRuns: 2000 },
  );
});

test('an escaped field never contains the separator, CR or LF', () => {
  fc.assert(fc.property(anyText, (field) => !/[|\r\n]/.test(escapeField(field)) && unescapeField(escapeField(field)) === field), {
    numRuns: 2000,
  });
});

test('no input makes the decoder or the request parser throw', () => {
  const tricky = fc.oneof(
    anyText,
    fc.array(fc.constantFrom('%', '%E0', '%A4', '%7C', '|', '#', '{', '}', '"verb"', ':', 'get', '%ZZ', '%F0%9F', '\u0000', '[', ']'), { maxLength: 12 }).map((parts) => parts.join('')),
    fc.json().map((json) => `{"verb":${json}}`),
    fc.json(),
  );
  fc.assert(
    fc.property(tricky, (text) => {
      parseLine(text);
      const parsed = parseRequest(text);
      assert.equal(typeof parsed.ok, 'boolean');
    }),
    { numRuns: 5000 },
  );
});

test('a stray % is kept, bad UTF-8 escapes become U+FFFD, and nothing throws', () => {
  assert.deepEqual(parseLine('set|a|100%'), ['set', 'a', '100%']);
  assert.deepEqual(parseLine('set|a|%E0%A4'), ['set', 'a', '\uFFFD']);
  assert.deepEqual(parseLine('set|a|%20x%7C'), ['set', 'a', ' x|']);
});

test('values: invariant numbers, booleans, vectors and colors in the engine\'s literal form', () => {
  assert.equal(formatValue(2.5), '2.5');
  assert.equal(formatValue(-0), '0');
  assert.equal(formatValue(1e21), '1e+21');
  assert.equal(formatValue(true), 'true');
  assert.equal(formatValue(vec(1, 2.5, -3)), '[1;2.5;-3]');
  assert.equal(formatValue(color(1, 0, 0.5)), '[1;0;0.5;1]');
  assert.equal(Message.of('pos', [vec(0, 1, 0), 3]).encode('line'), 'pos|[0;1;0]|3');
  assert.equal(Message.of('pos', [vec(0, 1, 0), 3]).encode('json'), '{"type":"pos","fields":["[0;1;0]",3]}');
});

test('every message builder uses a tag listed in SERVER_TAGS', () => {
  const built = [
    messages.pong(),
    messages.ok('set', 'k'),
    messages.value('k', 1),
    messages.missing('k'),
    messages.keys('p', ['a']),
    messages.members('c', ['a', 'b']),
    messages.msg('c', 'n', 't'),
    messages.joined('c', 'n'),
    messages.left('c', 'n'),
    messages.help(['ping']),
    messages.helpVerb('ping', 'u'),
    messages.error('x', 'y'),
    messages.dropped(3),
    messages.stderr('line'),
    messages.server('z'),
  ];
  assert.equal(built.length, Object.keys(messages).length);
  for (const message of built) assert.ok((SERVER_TAGS as readonly string[]).includes(message.tag), message.tag);
});
