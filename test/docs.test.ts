import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configKeys, configFields } from '../src/index.js';
import { envName, flagName } from '../src/config/load.js';

test('docs/configuration.md lists every setting with its flag, env var and default', () => {
  const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
  for (const key of configKeys) {
    const row = `| \`${key}\` | \`${flagName(key)}\` | \`${envName(key)}\` | \`${configFields[key].default}\` |`;
    assert.ok(doc.includes(row), `missing or outdated row: ${row}`);
  }
  const documented = [...doc.matchAll(/^\| `(\w+)` \| `--/gm)].map((match) => match[1]);
  assert.deepEqual(documented, configKeys);
});
