/**
 * Mappings between an app's JSON and world lines, written in JSONata
 * (https://jsonata.org, the language Node-RED users know). One layer for
 * every bridge whose peer speaks JSON.
 *
 *   in:                                # app → world; $ is the app's message (parsed JSON, else its text)
 *     when: 'eventType = "CurrentProgramSceneChanged"'     # optional: drop unless true
 *     lines: '["scene", eventData.sceneName]'               # one line (a list of fields) or a list of lines
 *     keys: '{"scene": eventData.sceneName}'                # optional: store keys to set (null deletes)
 *   out:                               # world → app, by the line's first field (its tag); "*" for any tag
 *     scene: '{"requestType": "SetCurrentProgramScene", "requestData": {"sceneName": args[0]}}'
 *
 * The server writes the fields with the protocol's own codec (escaping `|`,
 * `%` and line breaks; numbers in invariant culture, never exponents), so an
 * expression returns plain values. Expressions are compiled once, at start-up:
 * a bad one stops start-up naming the bridge, the setting and the position.
 * At run time an evaluation is bounded in time, depth and output size; one
 * that fails drops that message only (the bridge logs it, rate-limited).
 */
import jsonata from 'jsonata';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { escapeField, parseLine } from '../protocol/line.js';
import { keyProblem } from '../protocol/names.js';
import { formatValue } from '../protocol/values.js';

/**
 * Longest one evaluation may run: a runaway expression (a loop, a recursion) is stopped here. Generous,
 * as it is wall-clock time: a good mapping takes well under a millisecond, even on a busy machine.
 */
export const MAPPING_TIME_MS = 1_000;
/** Deepest nesting of evaluation (recursion in an expression's own functions). */
export const MAPPING_DEPTH = 500;
/** Longest sequence an expression may build (a huge range or $split would otherwise fill the memory). */
export const MAPPING_MAX_SEQUENCE = 100_000;
/** Most lines or keys one app message may become. */
export const MAPPING_MAX_ITEMS = 100;
/** Largest JSON an out mapping may build for the app. */
export const MAPPING_MAX_OUT_BYTES = 1024 * 1024;

const expression = z.string().trim().min(1, 'the expression is empty');

/**
 * JSONata's own $pad, taken once: a width is often a world's number (a progress bar), and the
 * string is built in one evaluation step, which the time limit cannot stop, so it is bounded here.
 */
const builtinPad = (jsonata('$pad').evaluate({}) as unknown as Promise<{ implementation: (...args: unknown[]) => unknown; signature: unknown }>);
async function boundedPad(this: unknown, text: unknown, width: unknown, char: unknown): Promise<unknown> {
  if (typeof width === 'number' && Math.abs(width) > MAPPING_MAX_OUT_BYTES) throw new Error(`$pad to ${width} characters is over the limit of ${MAPPING_MAX_OUT_BYTES}`);
  return (await builtinPad).implementation.call(this, text, width, char);
}

export const IN_MAPPING = z
  .object({ when: expression.optional(), lines: expression.optional(), keys: expression.optional() })
  .strict()
  .refine((spec) => spec.lines !== undefined || spec.keys !== undefined, { message: 'an in mapping needs lines, keys, or both' });
/** Tag (the line's first field, or * for any) → expression building what the app is sent. */
export const OUT_MAPPING = z.record(z.string().min(1), expression);

export type InMappingSpec = z.infer<typeof IN_MAPPING>;
export type OutMappingSpec = z.infer<typeof OUT_MAPPING>;

/** A mapping setting that cannot be compiled: names the bridge, the setting and the position. A config error, so start-up reports it as one. */
export class MappingError extends ConfigError {
  override name = 'MappingError';
}

/** What an app message becomes for the world. */
export interface Mapped {
  /** World lines, written; `key` is its tag and first field (e.g. `ha|light.kitchen`), to coalesce by. */
  lines: { text: string; key: string }[];
  /** Keys to set (undefined: delete). */
  keys: [key: string, value: string | undefined][];
}

/** A compiled JSONata expression with the limits above (JSONata's own guardrails). */
export class Expression {
  private readonly compiled: jsonata.Expression;

  /** `where` names it in errors, e.g. `bridge "obs": in.lines`. */
  constructor(
    source: string,
    readonly where: string,
  ) {
    try {
      this.compiled = jsonata(source, { timeout: MAPPING_TIME_MS, stack: MAPPING_DEPTH, sequence: MAPPING_MAX_SEQUENCE });
    } catch (error) {
      const { message, position } = error as { message?: string; position?: number };
      const at = position === undefined ? '' : ` at character ${position}`;
      throw new MappingError(`${where}: the JSONata expression has an error${at}: ${message ?? String(error)} (try it at https://try.jsonata.org)`);
    }
    // One step builds $pad's whole string, which no time limit can interrupt: its width is bounded instead.
    this.compiled.registerFunction('pad', boundedPad, '<s-ns?:s>');
  }

  /** Evaluates on `input`; throws an Error saying what went wrong (never the input's content). */
  async evaluate(input: unknown): Promise<unknown> {
    try {
      return await this.compiled.evaluate(input);
    } catch (error) {
      const { message, position } = error as { message?: string; position?: number };
      const at = position === undefined ? '' : ` (at character ${position})`;
      throw new Error(`${this.where}: ${message ?? String(error)}${at}`);
    }
  }
}

/** App message → lines and keys. */
export class InMapping {
  private readonly when: Expression | undefined;
  private readonly lines: Expression | undefined;
  private readonly keys: Expression | undefined;

  constructor(spec: InMappingSpec, where: string) {
    this.when = spec.when === undefined ? undefined : new Expression(spec.when, `${where}.when`);
    this.lines = spec.lines === undefined ? undefined : new Expression(spec.lines, `${where}.lines`);
    this.keys = spec.keys === undefined ? undefined : new Expression(spec.keys, `${where}.keys`);
  }

  /** The app's message as received: JSON is parsed, anything else is given as its text. */
  static input(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async apply(message: unknown): Promise<Mapped> {
    const mapped: Mapped = { lines: [], keys: [] };
    if (this.when && !truthy(await this.when.evaluate(message))) return mapped;
    if (this.lines) mapped.lines = toLines(await this.lines.evaluate(message), this.lines.where);
    if (this.keys) mapped.keys = toKeys(await this.keys.evaluate(message), this.keys.where);
    return mapped;
  }
}

/** The input of an out expression: `scene|Intro` from Alice in channel obs → {tag: "scene", args: ["Intro"], from: "Alice", channel: "obs"}. */
export interface WorldLine {
  tag: string;
  args: string[];
  from: string;
  channel: string;
}

/** World line → what the app is sent (JSON text, or the expression's string as it is). */
export class OutMapping {
  private readonly byTag = new Map<string, Expression>();

  constructor(spec: OutMappingSpec, where: string) {
    for (const [tag, source] of Object.entries(spec)) this.byTag.set(tag, new Expression(source, `${where}.${tag}`));
  }

  /** The tags it takes ("*": any). */
  get tags(): string[] {
    return [...this.byTag.keys()];
  }

  /** Parses a line with the protocol's codec; undefined when no expression takes its tag or the expression gives nothing. */
  async apply(text: string, from: string, channel: string): Promise<string | undefined> {
    const [tag = '', ...args] = parseLine(text);
    const expression = this.byTag.get(tag) ?? this.byTag.get('*');
    if (!expression) return undefined;
    const line: WorldLine = { tag, args, from, channel };
    return toAppText(await expression.evaluate(line), expression.where);
  }
}

/** What an out expression gave, as the text sent to the app. */
export function toAppText(result: unknown, where: string): string | undefined {
  if (result === undefined || result === null) return undefined;
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  if (Buffer.byteLength(text) > MAPPING_MAX_OUT_BYTES) throw new Error(`${where}: it built ${Buffer.byteLength(text)} bytes, over the ${MAPPING_MAX_OUT_BYTES}-byte limit`);
  return text;
}

function truthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== '' && value !== 0 && !(Array.isArray(value) && value.length === 0);
}

/** One line (a list of fields, or a single value) or a list of lines. */
function toLines(result: unknown, where: string): Mapped['lines'] {
  if (result === undefined || result === null) return [];
  const lines = Array.isArray(result) && result.length > 0 && result.every(Array.isArray) ? (result as unknown[][]) : [Array.isArray(result) ? result : [result]];
  if (lines.length > MAPPING_MAX_ITEMS) throw new Error(`${where}: it made ${lines.length} lines, over the limit of ${MAPPING_MAX_ITEMS} per message`);
  return lines.filter((fields) => fields.length > 0).map((fields) => {
    const written = fields.map((field) => escapeField(fieldText(field, where)));
    return { text: written.join('|'), key: written.slice(0, 2).join('|') };
  });
}

function toKeys(result: unknown, where: string): Mapped['keys'] {
  if (result === undefined || result === null) return [];
  if (typeof result !== 'object' || Array.isArray(result)) throw new Error(`${where}: it must give an object of keys and values, e.g. {"scene": eventData.sceneName}`);
  const entries = Object.entries(result);
  if (entries.length > MAPPING_MAX_ITEMS) throw new Error(`${where}: it gave ${entries.length} keys, over the limit of ${MAPPING_MAX_ITEMS} per message`);
  return entries.map(([key, value]) => {
    const problem = keyProblem(key);
    if (problem) throw new Error(`${where}: ${problem}`);
    return [key, value === null || value === undefined ? undefined : fieldText(value, where)];
  });
}

/** A value as a field's text: numbers in invariant culture, objects as JSON. */
function fieldText(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${where}: it gave ${String(value)}, which no world can parse`);
    return formatValue(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return formatValue(value);
  return JSON.stringify(value);
}
