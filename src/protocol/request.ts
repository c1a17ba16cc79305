/**
 * Reads one command from a client: `verb|field|…` (the line format), or a JSON
 * object `{"verb":"set","key":"k","value":"v"}` for apps and for worlds that
 * prefer to build JSON. Either may carry a request id, `verb#id|…` or
 * `"id":…`, that the reply repeats. Never throws.
 */
import { clip } from './clip.js';
import { parseLine } from './line.js';

export interface Request {
  /** Lower-case verb, e.g. `set`. */
  verb: string;
  id?: string;
  /** Fields in order (line format). */
  fields?: string[];
  /** Fields by name (JSON). */
  named?: Record<string, unknown>;
}

export type ParsedRequest = { ok: true; request: Request } | { ok: false; topic: string; error: string };

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const ID_RULE = 'an id is 1 to 64 letters, digits, dots, dashes, colons or underscores';

export function parseRequest(text: string): ParsedRequest {
  if (text.trim() === '') {
    return { ok: false, topic: 'request', error: 'the message is empty; send a command such as ping, or help for the list' };
  }
  return text.trimStart().startsWith('{') ? parseJson(text) : parseText(text);
}

function parseText(text: string): ParsedRequest {
  const [head = '', ...fields] = parseLine(text);
  const hash = head.indexOf('#');
  const verb = (hash < 0 ? head : head.slice(0, hash)).trim().toLowerCase();
  const id = hash < 0 ? undefined : head.slice(hash + 1);
  if (verb === '') return { ok: false, topic: 'request', error: 'the command is missing before the first |; e.g. get|score' };
  if (id !== undefined && !ID.test(id)) return { ok: false, topic: verb, error: `bad request id "${clip(id)}": ${ID_RULE}` };
  return { ok: true, request: { verb, id, fields } };
}

function parseJson(text: string): ParsedRequest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, topic: 'json', error: `not valid JSON (${clip((error as Error).message, 200)}); send e.g. {"verb":"get","key":"score"}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, topic: 'json', error: 'send a JSON object, e.g. {"verb":"get","key":"score"}' };
  }
  const { verb, id, ...named } = data as Record<string, unknown>;
  if (typeof verb !== 'string' || verb.trim() === '') {
    return { ok: false, topic: 'json', error: 'the "verb" property is missing; e.g. {"verb":"get","key":"score"}' };
  }
  const lower = verb.trim().toLowerCase();
  if (id !== undefined && !((typeof id === 'string' || typeof id === 'number') && ID.test(String(id)))) {
    return { ok: false, topic: lower, error: `bad request id ${clip(JSON.stringify(id) ?? String(id))}: ${ID_RULE}` };
  }
  return { ok: true, request: { verb: lower, id: id === undefined ? undefined : String(id), named } };
}
