import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeField, formatLine } from '../src/index.js';

test('formatLine joins a tag and fields with |', () => {
  assert.equal(formatLine('pong'), 'pong');
  assert.equal(formatLine('msg', 'lobby', 'Alice', 'hi there'), 'msg|lobby|Alice|hi there');
});

test('fields with |, %, CR or LF are percent-escaped so UnescapeUriDataString undoes them', () => {
  assert.equal(escapeField('a|b%c\r\nd'), 'a%7Cb%25c%0D%0Ad');
  assert.equal(decodeURIComponent(escapeField('50% | done\n')), '50% | done\n');
  assert.equal(escapeField('plain text; [1;2;3]'), 'plain text; [1;2;3]');
});
