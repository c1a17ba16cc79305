/** `resobridge token --save FILE`: adds the new token (its hash only) to a YAML or JSON config file, creating it if needed. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { TokenSpec } from '../auth/token-spec.js';

/** Adds `entry` under `tokens:`; returns whether the file was created. Throws an Error with a message for a person. */
export function saveToken(path: string, entry: TokenSpec): 'created' | 'added' {
  const exists = existsSync(path);
  const source = exists ? readFileSync(path, 'utf8') : '';
  if (extname(path).toLowerCase() === '.json') {
    const data = (source.trim() === '' ? {} : JSON.parse(source)) as Record<string, unknown>;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${path} does not hold settings ("key": value).`);
    data.tokens = [...(Array.isArray(data.tokens) ? data.tokens : []), entry];
    writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  } else {
    // Edits the document in place, so the user's comments and layout stay.
    const document = parseDocument(source);
    if (document.errors.length > 0) throw new Error(`${path} is not valid YAML: ${document.errors[0]?.message ?? ''}`);
    if (document.contents !== null && !isMap(document.contents)) throw new Error(`${path} must hold settings as "key: value" lines.`);
    const tokens = document.get('tokens');
    if (isSeq(tokens)) tokens.add(document.createNode(entry, { flow: false }));
    else document.set('tokens', [entry]);
    writeFileSync(path, document.toString());
  }
  return exists ? 'added' : 'created';
}
