/** Channel names and key namespaces share one form: what fits a URL path and a log line without escaping. */
export const NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const NAME_RULE = '1 to 64 letters, digits, dots, dashes or underscores';

/** Characters a key most often picks up by accident, by name. */
const CHARACTER_NAMES: Readonly<Record<string, string>> = {
  '\t': 'a tab',
  '\n': 'a line feed',
  '\r': 'a carriage return',
  ' ': 'a space',
  '\u00a0': 'a no-break space',
  '\u0000': 'a NUL character',
};
const KEY_RULE = 'keys may not start or end with whitespace, nor contain control characters';

/** C0 and C1 control characters, and DEL. */
function isControl(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function describe(char: string): string {
  const code = `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `${CHARACTER_NAMES[char] ?? (isControl(char) ? 'a control character' : 'whitespace')} (${code})`;
}

/**
 * Why a key name is refused, or undefined if it is fine. A world that builds
 * `get|score` with an Enter or a space at the edge would otherwise read and
 * write a second, invisible key (`score⏎`) instead of `score`. Values are not
 * checked: they are kept exactly as sent.
 */
export function keyProblem(key: string): string | undefined {
  const chars = [...key];
  const quoted = JSON.stringify(key);
  const trimmable = (char: string) => isControl(char) || /\s/.test(char);
  const trim = (where: 'starts' | 'ends', char: string) => `the key ${quoted} ${where} with ${describe(char)}: trim it, e.g. with a Trim node (${KEY_RULE})`;
  if (chars.length > 0 && trimmable(chars[0] ?? '')) return trim('starts', chars[0] ?? '');
  let end = chars.length;
  while (end > 0 && trimmable(chars[end - 1] ?? '')) end--;
  if (end < chars.length) return trim('ends', chars[end] ?? '');
  const control = chars.find(isControl);
  return control === undefined ? undefined : `the key ${quoted} contains ${describe(control)}: remove it (${KEY_RULE})`;
}
