/**
 * A request URL written as text with `{expression}` parts, e.g.
 * `https://api.example.org/weather?city={args[0]}`: each part is a JSONata
 * expression whose value is percent-encoded into the URL, so what a world
 * sends can fill in a path segment or a query value but never change the
 * host or add parameters. The scheme and host must be written out.
 */
import { formatValue } from '../protocol/values.js';
import { Expression, MappingError } from './mapping.js';

type Part = string | Expression;

/** A path segment a URL parser removes or climbs with: `.`, `..`, or those written as %2e. */
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

/** A URL's scheme and host, written out before any `{`. */
const FIXED_ORIGIN = /^https?:\/\/[^/?#{}\s]+([/?#]|$)/;

export class UrlTemplate {
  private readonly parts: Part[] = [];

  constructor(source: string, where: string) {
    if (!FIXED_ORIGIN.test(source)) {
      throw new MappingError(`${where}: write the URL's scheme and host out (https://host/…); only the path and query may hold {expressions}, e.g. https://api.example.org/weather?city={args[0]}`);
    }
    let literal = '';
    for (let i = 0; i < source.length; i++) {
      const char = source[i];
      if (char === '}') throw new MappingError(`${where}: a } at character ${i} closes nothing; write a literal } as %7D`);
      if (char !== '{') {
        literal += char;
        continue;
      }
      const end = closingBrace(source, i);
      if (end < 0) throw new MappingError(`${where}: the { at character ${i} is never closed; write a literal { as %7B`);
      if (literal) this.parts.push(literal);
      literal = '';
      this.parts.push(new Expression(source.slice(i + 1, end), `${where} {…} at character ${i}`));
      i = end;
    }
    if (literal) this.parts.push(literal);
  }

  async fill(input: unknown): Promise<string> {
    let url = '';
    for (const part of this.parts) url += typeof part === 'string' ? part : encodeURIComponent(asText(await part.evaluate(input)));
    // encodeURIComponent leaves dots, and a URL parser resolves `.`/`..` segments (also as %2e): `/items/{args[0]}` with `..` would ask another resource.
    const origin = FIXED_ORIGIN.exec(url);
    const pathAt = origin ? origin[0].length - (origin[1]?.length ?? 0) : 0;
    const segments = url.slice(pathAt).split(/[?#]/, 1)[0]?.split('/') ?? [];
    if (segments.some((segment) => DOT_SEGMENT.test(segment))) throw new Error("a field may not be . or .. in the URL's path (it would change which resource is asked)");
    return url;
  }
}

/** The `}` that closes the `{` at `open` (expressions may hold objects: braces nest), or -1. */
function closingBrace(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '{') depth++;
    else if (source[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return formatValue(value);
  return JSON.stringify(value);
}
