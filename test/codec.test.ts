/** Property tests of the line codec and request parser: round trips, and no input that throws. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { escapeField, formatLine, parseLine, unescapeField } from '../src/protocol/line.js';
import { parseRequest } from '../src/protocol/request.js';
import { Message } from '../src/protocol/message.js';
import { messages, SERVER_TAGS } from '../src/protocol/messages.js';
import { color, formatFloat32, formatNumber, formatValue, vec } from '../src/protocol/values.js';

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
  assert.equal(formatValue(1e21), '1000000000000000000000');
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

test('numbers never in exponent notation: the same value, digits a Parse node reads in every culture', () => {
  assert.equal(formatNumber(1e-7), '0.0000001');
  assert.equal(formatNumber(-1.5e-7), '-0.00000015');
  assert.equal(formatNumber(1.2345e25), '12345000000000000000000000');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatValue(vec(-1.5, 1e-7, 1.5e-7)), '[-1.5;0.0000001;0.00000015]');
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
      const text = formatNumber(value);
      assert.match(text, /^-?\d+(\.\d+)?$/);
      assert.equal(Number(text), value === 0 ? 0 : value, 'it reads back as the same number');
    }),
    { numRuns: 5000 },
  );
});

test('NaN and Infinity cannot be put in a message: the caller is told, nothing unparsable is written', () => {
  assert.throws(() => Message.of('n', [Number.NaN]), /NaN is not a finite number/);
  assert.throws(() => messages.value('x', Number.POSITIVE_INFINITY), /Infinity is not a finite number/);
  assert.throws(() => Message.of('pos', [vec(1, Number.NaN, 0)]), /not a finite number/);
});

test('a float32 is written at float32 precision: 0.1, not 0.10000000149011612', () => {
  assert.equal(formatFloat32(Math.fround(0.1)), '0.1');
  assert.equal(formatFloat32(Math.fround(1e-7)), '0.0000001');
  assert.equal(formatFloat32(Math.fround(72.3)), '72.3');
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (value) => {
      assert.equal(Math.fround(Number(formatFloat32(value))), Math.fround(value === 0 ? 0 : value));
    }),
    { numRuns: 2000 },
  );
});

test('a field that starts with a combining mark has the mark escaped, so .NET finds the | before it', () => {
  assert.equal(escapeField('\u0301x'), '%CC%81x');
  assert.equal(formatLine('value', 'score', '\u0301x'), 'value|score|%CC%81x');
  assert.equal(escapeField('e\u0301'), 'e\u0301', 'a mark inside a field is left as it is');
  assert.equal(escapeField('\u20D0\u0301'), '%E2%83%90\u0301');
  assert.equal(escapeField('\uFE20'), '%EF%B8%A0');
  fc.assert(
    fc.property(anyText, (field) => !/^\p{M}/u.test(escapeField(field)) && unescapeField(escapeField(field)) === field),
    { numRuns: 2000 },
  );
});

test('members: the total counts everyone, `shown` counts the names that follow (at most 100)', () => {
  const names = Array.from({ length: 101 }, (_, index) => `p${String(index).padStart(3, '0')}`);
  const line = messages.members('hall', names).encode('line');
  const fields = line.split('|');
  assert.deepEqual(fields.slice(0, 4), ['members', 'hall', '101', '100']);
  assert.equal(fields.length - 4, 100, 'as many names as `shown` says');
  assert.equal(messages.members('hall', []).encode('line'), 'members|hall|0|0');
  assert.equal(messages.members('hall', ['a']).encode('json'), '{"type":"members","channel":"hall","count":1,"shown":1,"names":["a"]}');
});
