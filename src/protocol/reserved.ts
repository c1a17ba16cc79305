/**
 * The server's own notices to relay members (`/channel/<name>`) arrive as bare text, beside the
 * members' messages: `joined|…`, `left|…`, `dropped|…`, `error|…`, `server|…`. So that a member
 * cannot forge one, no text that a world would read as one of them is relayed from a client
 * (a relay member, `pub`, HTTP /publish).
 */
export const RESERVED_TAGS = ['joined', 'left', 'dropped', 'error', 'server'] as const;

const NOTICE_START = new RegExp(`^(${RESERVED_TAGS.join('|')})\\|`);

/**
 * Characters a culture-sensitive StartsWith (ICU, .NET on Windows) skips as if absent: controls,
 * format characters (zero-width joiners, soft hyphens, direction marks), other ignorables.
 * `jo\u00ADined|lobby|Admin` starts with `joined|lobby|` there.
 */
const IGNORABLE = /^[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
/** Visible characters to read: the longest tag and its bar. */
const LOOK = Math.max(...RESERVED_TAGS.map((tag) => tag.length)) + 1;

/** The notice tag that `text` would pass for in a world, if any. Reads only the start of the text. */
export function reservedTag(text: string): string | undefined {
  let start = '';
  for (const char of text) {
    if (IGNORABLE.test(char)) continue;
    start += char;
    if (char === '|' || start.length >= LOOK) break;
  }
  return NOTICE_START.exec(start)?.[1];
}

/** What the sender is told (after `error|reserved|`, or in an HTTP 400). */
export function reservedReason(tag: string): string {
  return `a message may not start with "${tag}" and a bar: relay members would take it for the server's own notice, so it was not sent; start it with a tag of your own`;
}
