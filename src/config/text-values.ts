/**
 * Parsers for values that arrive as text (flags, env vars, URL query options).
 * One place, so `--port`, `RESOBRIDGE_PORT` and `?history=` agree on what a
 * number or a yes/no looks like.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false };

const INTEGER = /^[+-]?\d+$/;
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/** A whole number within [min, max]. */
export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  const trimmed = text.trim();
  if (!INTEGER.test(trimmed)) return { ok: false };
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min && value <= max ? { ok: true, value } : { ok: false };
}

/** 1/0, true/false, yes/no, on/off (any case). */
export function parseBoolean(text: string): Parsed<boolean> {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return { ok: true, value: true };
  if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  return { ok: false };
}

export const BOOLEAN_WORDS = '1/0, true/false, yes/no or on/off';
