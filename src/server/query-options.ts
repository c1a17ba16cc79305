/**
 * Options a client gives in the URL's query string (Resonite cannot send
 * headers, so the URL is all a world can say). A bad or unknown option never
 * refuses the connection: the client gets a text `error|query|…` after
 * connecting and the option keeps its default.
 */
import { clip } from '../protocol/clip.js';
import { BOOLEAN_WORDS, parseBoolean, parseInteger } from '../config/text-values.js';
import { NAME, NAME_RULE } from '../protocol/names.js';

export interface QueryOption<T> {
  default: T;
  /** The value, or an explanation of what is allowed. */
  read(text: string): { value: T; error?: string } | { error: string };
}

export type QueryValues<S> = { [K in keyof S]: S[K] extends QueryOption<infer T> ? T : never };

export function flag(): QueryOption<boolean> {
  return {
    default: false,
    read(text) {
      const parsed = parseBoolean(text === '' ? '1' : text);
      return parsed.ok ? { value: parsed.value } : { error: `must be ${BOOLEAN_WORDS}` };
    },
  };
}

/** A whole number from 0; above `max` it is lowered to `max` (with a notice). */
export function count(max: number): QueryOption<number> {
  return {
    default: 0,
    read(text) {
      const parsed = parseInteger(text, 0, Number.MAX_SAFE_INTEGER);
      if (!parsed.ok) return { error: `must be a whole number from 0 to ${max}` };
      if (parsed.value > max) return { value: max, error: `is limited to ${max} on this server; using ${max}` };
      return { value: parsed.value };
    },
  };
}

export const MAX_NAME_LENGTH = 64;

/** A display name: 1 to 64 characters. */
export function displayName(): QueryOption<string | undefined> {
  return {
    default: undefined,
    read(text) {
      const name = text.trim();
      if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
        return { error: `must be 1 to ${MAX_NAME_LENGTH} characters; using a generated name` };
      }
      return { value: name };
    },
  };
}

/** Any text; for options that a custom endpoint reads itself from `connection.query`. */
export function anyText(): QueryOption<string | undefined> {
  return { default: undefined, read: (text) => ({ value: text }) };
}

/** One of a few words. */
export function choice<const T extends string>(values: readonly [T, ...T[]]): QueryOption<T> {
  return {
    default: values[0],
    read(text) {
      const word = text.trim().toLowerCase();
      return (values as readonly string[]).includes(word) ? { value: word as T } : { error: `must be one of ${values.join(', ')}` };
    },
  };
}

export const NAMESPACE = NAME;
export const DEFAULT_NAMESPACE = 'default';

/** Namespace for a client's keys, so two worlds don't share `score` by accident. */
export function namespace(): QueryOption<string> {
  return {
    default: DEFAULT_NAMESPACE,
    read(text) {
      return NAMESPACE.test(text)
        ? { value: text }
        : { error: `must be ${NAME_RULE}; using "${DEFAULT_NAMESPACE}"` };
    },
  };
}

/** `?rate=`: messages per second this client receives, up to the server's maxOutboundRate (`cap`; 0 = no cap). */
export function rateOption(cap: number): QueryOption<number | undefined> {
  const allowed = cap === 0 ? 'a whole number of messages per second, 0 (unpaced) or more' : `a whole number of messages per second from 1 to ${cap}`;
  return {
    default: undefined,
    read(text) {
      const parsed = parseInteger(text, 0, Number.MAX_SAFE_INTEGER);
      return parsed.ok ? { value: parsed.value } : { error: `must be ${allowed}` };
    },
  };
}

/** Options every endpoint understands (accept.ts gives `rate` the server's cap). `token` is read at the handshake (and never logged). */
export const commonOptions = { name: displayName(), ns: namespace(), rate: rateOption(0), token: anyText() };

export function readQuery<S extends Record<string, QueryOption<unknown>>>(
  specs: S,
  query: URLSearchParams,
  strict = true,
): { values: QueryValues<S>; errors: string[] } {
  const values: Record<string, unknown> = {};
  for (const key in specs) values[key] = specs[key]?.default;
  const errors: string[] = [];
  for (const [key, text] of query) {
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec) {
      if (!strict) continue;
      errors.push(`unknown option "${clip(key)}"; this endpoint understands ${Object.keys(specs).join(', ')}`);
      continue;
    }
    const result = spec.read(text);
    if ('value' in result) values[key] = result.value;
    if ('error' in result) errors.push(`${key} ${result.error} (got "${clip(text)}")`);
  }
  return { values: values as QueryValues<S>, errors };
}
