/**
 * The line format: `tag|field|field…`, what worlds read and write.
 * ProtoFlux has no Split and no JSON node, so every message to a world is a
 * tag to branch on with StartsWith, then fields. A field that holds `|`, `%`,
 * CR or LF (or starts with a combining mark) is percent-escaped, which the stock UnescapeUriDataString node undoes;
 * incoming fields are percent-decoded, so a world may escape with EscapeUriDataString.
 */

export const SEPARATOR = '|';

const NEEDS_ESCAPE = /[|%\r\n]/;
const ESCAPES: Record<string, string> = { '|': '%7C', '%': '%25', '\r': '%0D', '\n': '%0A' };

/**
 * A combining mark (U+0300 and up) at a field's start follows a `|`, and .NET's culture-sensitive
 * StartsWith/IndexOf (ICU, on Windows) then no longer see that `|`: it is percent-escaped too.
 */
const LEADING_MARK = /^\p{M}/u;

export function escapeField(field: string): string {
  const escaped = NEEDS_ESCAPE.test(field) ? field.replace(/[|%\r\n]/g, (c) => ESCAPES[c] ?? c) : field;
  if (escaped.charCodeAt(0) < 0x300 || !LEADING_MARK.test(escaped)) return escaped;
  const mark = String.fromCodePoint(escaped.codePointAt(0) ?? 0);
  return encodeURIComponent(mark) + escaped.slice(mark.length);
}

/** `formatLine('joined', 'lobby', 'Bob')` → `joined|lobby|Bob`. The tag is not escaped. */
export function formatLine(tag: string, ...fields: string[]): string {
  let line = tag;
  for (const field of fields) line += SEPARATOR + escapeField(field);
  return line;
}

/**
 * Splits a line into fields and percent-decodes each. Never throws: a `%` that
 * does not start a valid escape (as in "100%") is kept as it is.
 */
export function parseLine(line: string): string[] {
  return line.split(SEPARATOR).map(unescapeField);
}

const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

export function unescapeField(field: string): string {
  if (!field.includes('%')) return field;
  return field.replace(ESCAPE_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // Bytes that are not UTF-8: decode what is valid, U+FFFD for the rest.
      return Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8');
    }
  });
}
