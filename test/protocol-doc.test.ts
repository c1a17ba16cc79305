/** docs/protocol.md must match what the server does: every verb and every message tag, and nothing else. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { registerBuiltins } from '../src/app/builtins.js';
import { Commands } from '../src/app/commands.js';
import { SERVER_TAGS } from '../src/protocol/messages.js';

const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

/** First-column names of the table under a heading. */
function tableNames(heading: string): string[] {
  const section = doc.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([a-z]+)` \|/gm)].map((match) => match[1] ?? '');
}

test('the verbs table lists exactly the built-in verbs', () => {
  const commands = new Commands();
  registerBuiltins(commands, 100);
  assert.deepEqual(tableNames('Verbs').sort(), commands.verbs().sort());
});

test('the messages table lists exactly the tags the server sends', () => {
  assert.deepEqual(tableNames('Messages the server sends').sort(), [...SERVER_TAGS].sort());
});
