/** A setting that is wrong, with a message that says which one and what is allowed. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The known name closest to `word`, if it is close enough to be a likely typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** "Did you mean …?" or nothing. */
export function suggestion(word: string, candidates: readonly string[]): string {
  const match = closestMatch(word, candidates);
  return match ? ` Did you mean "${match}"?` : '';
}

/**
 * Where a config text failed to parse, and why, without quoting it: the line
 * may hold a token or a password. Gives the line and column, and the name of
 * the setting (the nearest key at or above the line) so the user can find it.
 */
export function describeParseError(error: unknown, source: string, format: 'YAML' | 'JSON'): string {
  const message = error instanceof Error ? error.message : String(error);
  const offset = errorOffset(error, message);
  const where = offset === undefined ? '' : ` at ${lineColumn(source, offset)}${keyNear(source, offset)}`;
  return `not valid ${format}${where}: ${parserReason(message, format)}`;
}

/** The parser's own sentence, cut before anything it quotes from the source. */
function parserReason(message: string, format: 'YAML' | 'JSON'): string {
  const first = (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/ in JSON at position \d+.*$/, '');
  // V8 quotes the source in some JSON messages (`Unexpected token 's', "{"a": s…" is not valid JSON`): not those.
  if (format === 'JSON' && /["']/.test(first)) return 'unexpected text there';
  return first || 'unexpected text there';
}

function errorOffset(error: unknown, message: string): number | undefined {
  const pos = (error as { pos?: unknown } | null)?.pos;
  if (Array.isArray(pos) && typeof pos[0] === 'number') return pos[0];
  const json = / at position (\d+)/.exec(message);
  return json ? Number(json[1]) : undefined;
}

function lineColumn(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** ` (in "token" under "tokens")`: the key on or above the failing line, and the top-level setting it is in. */
function keyNear(source: string, offset: number): string {
  const lines = source.slice(0, source.indexOf('\n', offset) === -1 ? source.length : source.indexOf('\n', offset)).split('\n');
  let key: string | undefined;
  let setting: string | undefined;
  for (let i = lines.length - 1; i >= 0 && setting === undefined; i--) {
    const match = /^(\s*)(?:-\s+)?["']?([A-Za-z_][\w-]*)["']?\s*:/.exec(lines[i] ?? '');
    if (!match) continue;
    key ??= match[2];
    if ((match[1] ?? '').length === 0 && !(lines[i] ?? '').startsWith('-')) setting = match[2];
  }
  if (key === undefined) {
    // JSON on one line: the last "key": before the error.
    const keys = [...source.slice(0, offset).matchAll(/"([A-Za-z_][\w-]*)"\s*:/g)];
    key = keys.at(-1)?.[1];
  }
  if (key === undefined) return '';
  return setting !== undefined && setting !== key ? ` (in "${key}" under "${setting}")` : ` (in "${key}")`;
}

/** Refused: a non-loopback address with no tokens and no allowAnonymous. The CLI turns it into commands to paste. */
export class OpenToNetworkError extends ConfigError {
  constructor(readonly host: string) {
    super(
      `Refusing to listen on ${host} with no tokens: other machines can reach that address, so anyone could use this server. ` +
        'Configure tokens (see docs/security.md), or set allowAnonymous if everyone who can reach it may use it (e.g. a trusted home network).',
    );
  }
}
