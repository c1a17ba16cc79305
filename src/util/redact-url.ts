/** A URL fit for logs and status pages: any password replaced by ***. */
export function redactUrl(url: string, fallback: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return fallback;
  }
}

/** Decoding rounds: enough for a doubly or triply %-encoded path, bounded so a crafted one cannot cost more. */
const DECODE_ROUNDS = 4;
/** A `token=` anywhere (query, path, after `&` or `;`), whatever its case: its value runs to the next & or #. */
const TOKEN_PARAM = /(token=)[^&#]*/gi;
/** A path segment that announces a token: `t` (the path form) or `token`, in any case, blanks and control characters aside. */
// eslint-disable-next-line no-control-regex -- control characters around the `t` are exactly what must not hide it
const TOKEN_SEGMENT = /^[\s\0-\x1f]*(t|token)[\s\0-\x1f]*$/i;
/** What redactPath acts on: an escape (it decodes), a backslash (it reads it as a slash), `token=`, or a TOKEN_SEGMENT between slashes. */
// eslint-disable-next-line no-control-regex -- the same characters TOKEN_SEGMENT allows around the `t`
const MAY_HOLD_TOKEN = /[%\\]|token=|(?:^|\/)[\s\0-\x1f]*(?:t|token)[\s\0-\x1f]*(?:\/|$)/i;

/**
 * A request path (and query) as it may be logged or shown: no token in it,
 * however it was typed. Clients mistype the token forms (`/T/<token>/…`,
 * `//t/<token>/`, `/%74/<token>/`, `/api&token=…`), and each of those must
 * stay out of the log as well as the correct ones. So the path is decoded
 * first, then every `token=` value and every segment after a `t` segment
 * (in any case, with any slashes) is replaced by ***. Every log line and
 * dashboard view that shows a path uses this.
 */
export function redactPath(path: string): string {
  // Most paths hold nothing redactPath would change (no escape, backslash, token= or token segment): they are returned as they are.
  if (!MAY_HOLD_TOKEN.test(path)) return path;
  let text = path;
  for (let round = 0; round < DECODE_ROUNDS; round++) {
    const decoded = decodeLoosely(text);
    if (decoded === text) break;
    text = decoded;
  }
  text = text.replace(TOKEN_PARAM, '$1***');
  // Backslashes count as slashes: URL parsers (and browsers) read them so.
  const segments = text.split(/[/\\]/);
  for (let i = 0; i < segments.length; i++) {
    if (!TOKEN_SEGMENT.test(segments[i] ?? '')) continue;
    // The next non-empty segment: `/t//<token>` must not shield it.
    let next = i + 1;
    while (segments[next] === '') next++;
    if (next < segments.length) segments[next] = '***';
    i = next;
  }
  return segments.join('/');
}

/** decodeURIComponent, escape by escape: a malformed one stays as written, the rest are decoded. */
function decodeLoosely(text: string): string {
  return text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%[0-9a-f]{2}/gi, (one) => {
        const code = parseInt(one.slice(1), 16);
        return code < 0x80 ? String.fromCharCode(code) : one;
      });
    }
  });
}

/** A `token=` value in a sentence, but not the server's own advice (`?token=YOUR-TOKEN`, `(or ?token=)`). */
const TOKEN_IN_TEXT = /(token=)(?!YOUR-TOKEN\b|\))[^&#\s"]*/gi;

/**
 * A refusal's reason as it may be logged: the client reads the sentence with
 * the path it sent, the log gets it with `shownPath` (redactPath's) in its place
 * and any other `token=` value (a channel name quoted back, say) redacted.
 */
export function redactReason(reason: string, sentPath: string, shownPath: string): string {
  const replaced = sentPath.length > 1 ? reason.split(sentPath).join(shownPath) : reason;
  return replaced.replace(TOKEN_IN_TEXT, '$1***');
}
