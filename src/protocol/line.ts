/**
 * The flat tagged text a world receives: `tag|field|field…`.
 * ProtoFlux has no Split and no JSON node, so every message the server sends a
 * world is built here: a tag to branch on with StartsWith, then fields.
 * A field that holds `|`, `%`, CR or LF is percent-escaped, which the stock
 * UnescapeUriDataString node undoes.
 */

export const SEPARATOR = '|';

const NEEDS_ESCAPE = /[|%\r\n]/;
const ESCAPES: Record<string, string> = { '|': '%7C', '%': '%25', '\r': '%0D', '\n': '%0A' };

export function escapeField(field: string): string {
  return NEEDS_ESCAPE.test(field) ? field.replace(/[|%\r\n]/g, (c) => ESCAPES[c] ?? c) : field;
}

/** `formatLine('joined', 'lobby', 'Bob')` → `joined|lobby|Bob`. */
export function formatLine(tag: string, ...fields: string[]): string {
  let line = tag;
  for (const field of fields) line += SEPARATOR + escapeField(field);
  return line;
}
