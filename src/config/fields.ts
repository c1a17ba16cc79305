/**
 * Every setting of the server, described once: its type and range, default,
 * help text, and how it is written as text. The zod schema, the CLI flags,
 * the RESOBRIDGE_* env vars and the config-file keys are all derived from this
 * table, so a new setting is one entry here.
 */
import { z } from 'zod';
import { DEFAULT_SQLITE_PATH, STORE_SETTING } from '../store/store-setting.js';
import { parseInteger, type Parsed } from './text-values.js';

export interface Field<T> {
  schema: z.ZodType<T>;
  default: T;
  /** One line for --help and docs. */
  help: string;
  /** What values are allowed, phrased for an error message. */
  allowed: string;
  /** Placeholder in --help, e.g. <port>. */
  placeholder: string;
  /** Reads the value from a flag or env var. */
  fromText(text: string): Parsed<T>;
}

function integer(min: number, max: number, def: number, placeholder: string, help: string): Field<number> {
  return {
    schema: z.number().int().min(min).max(max),
    default: def,
    help,
    allowed: `a whole number from ${min} to ${max}`,
    placeholder,
    fromText: (text) => parseInteger(text, min, max),
  };
}

function text(def: string, placeholder: string, help: string): Field<string> {
  return {
    schema: z.string().trim().min(1),
    default: def,
    help,
    allowed: 'a non-empty text',
    placeholder,
    fromText: (value) => (value.trim() === '' ? { ok: false } : { ok: true, value: value.trim() }),
  };
}

/** Text of a given form. */
function pattern(def: string, form: RegExp, allowed: string, placeholder: string, help: string): Field<string> {
  return {
    schema: z.string().regex(form),
    default: def,
    help,
    allowed,
    placeholder,
    fromText: (value) => (form.test(value.trim()) ? { ok: true, value: value.trim() } : { ok: false }),
  };
}

function choice<const T extends string>(values: readonly [T, ...T[]], def: T, placeholder: string, help: string): Field<T> {
  const allowed = new Set<string>(values);
  return {
    schema: z.enum(values) as unknown as z.ZodType<T>,
    default: def,
    help: `${help}: ${values.join(', ')}`,
    allowed: `one of ${values.join(', ')}`,
    placeholder,
    fromText: (value) => (allowed.has(value.trim()) ? { ok: true, value: value.trim() as T } : { ok: false }),
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

export const fields = {
  host: text('127.0.0.1', '<address>', 'address to listen on; 0.0.0.0 lets other machines on your network connect'),
  port: integer(0, 65535, 8778, '<port>', 'TCP port to listen on (0 picks a free one)'),
  maxMessageBytes: integer(
    128,
    16 * 1024 * 1024,
    64 * 1024,
    '<bytes>',
    'largest text message a client may send; bigger ones get an error and the connection closes (1009)',
  ),
  maxHistory: integer(
    0,
    10_000,
    100,
    '<count>',
    'messages kept per channel for ?history=N replay (also the largest N a client may ask for)',
  ),
  store: pattern(
    'sqlite',
    STORE_SETTING,
    `memory, sqlite (the file ${DEFAULT_SQLITE_PATH}), sqlite:PATH, or a postgres://user@host:port/database URL`,
    '<store>',
    `where keys are kept: sqlite (${DEFAULT_SQLITE_PATH}), sqlite:PATH, memory (lost on restart), or postgres://…`,
  ),
  maxKeyBytes: integer(1, 4096, 256, '<bytes>', 'longest key the store accepts'),
  maxValueBytes: integer(1, 16 * 1024 * 1024, 64 * 1024, '<bytes>', 'largest value the store accepts'),
  pingIntervalMs: integer(
    50,
    55_000,
    20_000,
    '<ms>',
    "how often to ping each client; keeps Resonite's 60 s idle timeout from dropping quiet connections",
  ),
  maxMissedPongs: integer(1, 100, 3, '<count>', 'pings a client may leave unanswered (a game hitch) before it is dropped'),
  closeLingerMs: integer(
    0,
    10_000,
    250,
    '<ms>',
    "wait after a final message before closing, so Resonite receives it",
  ),
  shutdownTimeoutMs: integer(100, 60_000, 5_000, '<ms>', 'longest a graceful shutdown may take before connections are cut'),
  logLevel: choice(LOG_LEVELS, 'info', '<level>', 'how much to log'),
  logFormat: choice(LOG_FORMATS, 'auto', '<format>', 'pretty for people, json for log collectors, auto (pretty on a terminal)'),
} satisfies Record<string, Field<number> | Field<string>>;

export type ConfigKey = keyof typeof fields;
export const configKeys = Object.keys(fields) as ConfigKey[];

type ValueOf<F> = F extends Field<infer T> ? T : never;
/** The server's settings, every one filled in. */
export type Config = { [K in ConfigKey]: ValueOf<(typeof fields)[K]> };
