/**
 * The fields a command takes, declared once: their order (in `verb|a|b`),
 * their names (in JSON), their types, and the error a client gets for a bad
 * one. Handlers receive them parsed and typed.
 *
 *   { key: arg.text(), by: arg.number().default(1) }
 */
import { BOOLEAN_WORDS, parseBoolean, parseInteger, type Parsed } from '../config/text-values.js';

export class Arg<T> {
  private constructor(
    /** What is allowed, for error messages: "a whole number from 1 to 6". */
    readonly allowed: string,
    private readonly read: (value: unknown) => Parsed<T>,
    readonly required = true,
    readonly fallback?: T,
    /** Takes every remaining field, `|` and all (only the last arg). */
    readonly isRest = false,
  ) {}

  static of<T>(allowed: string, read: (value: unknown) => Parsed<T>): Arg<T> {
    return new Arg(allowed, read);
  }

  /** Optional, with this value when absent or empty. */
  default(value: T): Arg<T> {
    return new Arg(this.allowed, this.read, false, value, this.isRest);
  }

  /** Optional, undefined when absent or empty. */
  optional(): Arg<T | undefined> {
    return new Arg<T | undefined>(this.allowed, this.read, false, undefined, this.isRest);
  }

  /** The last field takes the rest of the line, so an unescaped `|` in it is kept. */
  rest(): Arg<T> {
    return new Arg(this.allowed, this.read, this.required, this.fallback, true);
  }

  parse(value: unknown): Parsed<T> {
    return this.read(value);
  }
}

const asText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;

export const arg = {
  /** Any text, up to `maxLength` characters. */
  text(maxLength = Number.MAX_SAFE_INTEGER): Arg<string> {
    return Arg.of<string>(maxLength === Number.MAX_SAFE_INTEGER ? 'a text' : `a text of up to ${maxLength} characters`, (value) => {
      const text = asText(value);
      return text !== undefined && text.length <= maxLength ? { ok: true, value: text } : { ok: false };
    });
  },
  /** A whole number from `min` to `max`. */
  int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Arg<number> {
    const bounded = min !== Number.MIN_SAFE_INTEGER || max !== Number.MAX_SAFE_INTEGER;
    return Arg.of<number>(bounded ? `a whole number from ${min} to ${max}` : 'a whole number', (value) => {
      const text = asText(value);
      return text === undefined ? { ok: false } : parseInteger(text, min, max);
    });
  },
  /**
   * Any finite decimal number (e.g. 2.5, -3, 1e3). A German or French world's FormatString writes `2,5`:
   * digits, one comma, digits is read as a decimal comma. Hex (`0x10`) and the like are not numbers here.
   */
  number(): Arg<number> {
    return Arg.of<number>('a number such as 2.5 or -3 (2,5 works too)', (value) => {
      const text = asText(value)?.trim() ?? '';
      const decimal = DECIMAL_COMMA.test(text) ? text.replace(',', '.') : text;
      const number = DECIMAL.test(decimal) ? Number(decimal) : Number.NaN;
      return Number.isFinite(number) ? { ok: true, value: number } : { ok: false };
    });
  },
  /** true/false, 1/0, yes/no or on/off. */
  bool(): Arg<boolean> {
    return Arg.of<boolean>(BOOLEAN_WORDS, (value) => {
      const text = asText(value);
      return text === undefined ? { ok: false } : parseBoolean(text);
    });
  },
};

/** A decimal number as worlds and apps write it: sign, digits, a point, an exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
/** Digits, one comma, digits: a decimal comma (what FormatString writes in de-DE, fr-FR). */
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

export type Args = Record<string, Arg<unknown>>;
export type ArgValues<S extends Args> = { [K in keyof S]: S[K] extends Arg<infer T> ? T : never };
