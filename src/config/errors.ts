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

/** Refused: a non-loopback address with no tokens and no allowAnonymous. The CLI turns it into commands to paste. */
export class OpenToNetworkError extends ConfigError {
  constructor(readonly host: string) {
    super(
      `Refusing to listen on ${host} with no tokens: other machines can reach that address, so anyone could use this server. ` +
        'Configure tokens (see docs/security.md), or set allowAnonymous if everyone who can reach it may use it (e.g. a trusted home network).',
    );
  }
}
