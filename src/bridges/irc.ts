/**
 * IRC lines as Twitch sends them (RFC 1459 with IRCv3 message tags):
 *   @badges=broadcaster/1;color=#0000FF;display-name=abc :abc!abc@abc.tmi.twitch.tv PRIVMSG #xyz :HeyGuys
 * Only parsing and formatting; what the lines mean is twitch.ts's business.
 */

export interface IrcMessage {
  /** Tag values already unescaped; a tag without `=` has the value ''. */
  tags: Map<string, string>;
  /** `nick!user@host` or a server name, without the leading `:`. */
  prefix: string;
  command: string;
  /** Middle parameters, then the trailing one (after ` :`), if any. */
  params: string[];
}

/** Parses one line (without its CR LF); undefined for a line with no command. */
export function parseIrcLine(line: string): IrcMessage | undefined {
  let rest = line;
  const tags = new Map<string, string>();
  if (rest.startsWith('@')) {
    const end = rest.indexOf(' ');
    if (end < 0) return undefined;
    for (const pair of rest.slice(1, end).split(';')) {
      if (!pair) continue;
      const equals = pair.indexOf('=');
      if (equals < 0) tags.set(pair, '');
      else tags.set(pair.slice(0, equals), unescapeTagValue(pair.slice(equals + 1)));
    }
    rest = rest.slice(end + 1).trimStart();
  }
  let prefix = '';
  if (rest.startsWith(':')) {
    const end = rest.indexOf(' ');
    if (end < 0) return undefined;
    prefix = rest.slice(1, end);
    rest = rest.slice(end + 1).trimStart();
  }
  const params: string[] = [];
  const trailingAt = rest.indexOf(' :');
  const trailing = trailingAt >= 0 ? rest.slice(trailingAt + 2) : undefined;
  const words = (trailingAt >= 0 ? rest.slice(0, trailingAt) : rest).split(' ').filter((word) => word.length > 0);
  const command = words.shift();
  if (!command) return undefined;
  params.push(...words);
  if (trailing !== undefined) params.push(trailing);
  return { tags, prefix, command: command.toUpperCase(), params };
}

const TAG_ESCAPES: Readonly<Record<string, string>> = { s: ' ', ':': ';', '\\': '\\', r: '\r', n: '\n' };

/**
 * IRCv3 tag value escaping undone: `\s` space, `\:` semicolon, `\\` backslash,
 * `\r`, `\n`; a backslash before any other character is dropped, and a
 * trailing lone backslash too (as the spec says).
 */
export function unescapeTagValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break;
    out += TAG_ESCAPES[next] ?? next;
  }
  return out;
}

/** The nick of a `nick!user@host` prefix. */
export function nickOf(prefix: string): string {
  const bang = prefix.indexOf('!');
  return bang >= 0 ? prefix.slice(0, bang) : prefix;
}
