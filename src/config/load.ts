/**
 * Builds the Config from its sources. Precedence: flags > env > file > defaults.
 * Each source is checked on its own, so an error names exactly where the bad
 * value came from (`--port`, `RESOBRIDGE_PORT`, `port in resobridge.yaml`).
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, describeParseError, suggestion } from './errors.js';
import { configKeys, fields, type Config, type ConfigKey, type Field } from './fields.js';
import type { Parsed } from './text-values.js';

export const ENV_PREFIX = 'RESOBRIDGE_';
/** The env var that names a config file, like --config. */
export const CONFIG_FILE_ENV = `${ENV_PREFIX}CONFIG`;
/** The token `resobridge mcp` sends to a server: the server itself does not read it (and does not refuse it). */
export const CLIENT_TOKEN_ENV = `${ENV_PREFIX}TOKEN`;

export const envName = (key: ConfigKey): string => ENV_PREFIX + key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
export const flagName = (key: ConfigKey): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export interface ConfigSources {
  /** Flag values as typed, keyed by setting name. */
  flags?: Partial<Record<ConfigKey, string>>;
  /** The environment; only RESOBRIDGE_* variables are read. */
  env?: Record<string, string | undefined>;
  /** Path of a YAML or JSON config file. */
  file?: string;
}

type Layer = Partial<Record<ConfigKey, unknown>>;

/** Reads and checks every source; throws ConfigError naming the first bad setting. */
export function loadConfig(sources: ConfigSources): Config {
  const file = sources.file ? readConfigFile(sources.file) : {};
  const env = sources.env ? readEnv(sources.env) : {};
  const flags = readText(sources.flags ?? {}, flagName);
  return { ...defaults(), ...file, ...env, ...flags } as Config;
}

/** Checks settings given in code (the library API) and fills in defaults. */
export function resolveConfig(values: Layer): Config {
  return { ...defaults(), ...checkValues(values, (key) => `option "${key}"`, 'options') } as Config;
}

export function defaults(): Config {
  return Object.fromEntries(configKeys.map((key) => [key, fields[key].default])) as Config;
}

function readEnv(env: Record<string, string | undefined>): Layer {
  const byEnvName = new Map(configKeys.map((key) => [envName(key), key]));
  const text: Partial<Record<ConfigKey, string>> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_ENV || name === CLIENT_TOKEN_ENV || value === undefined) continue;
    const key = byEnvName.get(name);
    if (!key) {
      const known = [...byEnvName.keys(), CONFIG_FILE_ENV];
      throw new ConfigError(
        `Unknown environment variable ${name}.${suggestion(name, known)} Known ones: ${known.join(', ')}.`,
      );
    }
    text[key] = value;
  }
  return readText(text, envName);
}

function readText(text: Partial<Record<ConfigKey, string>>, where: (key: ConfigKey) => string): Layer {
  const layer: Layer = {};
  for (const [key, value] of Object.entries(text) as [ConfigKey, string | undefined][]) {
    if (value === undefined) continue;
    if (!Object.hasOwn(fields, key)) {
      throw new ConfigError(`Unknown setting "${key}".${suggestion(key, configKeys)} Known settings: ${configKeys.join(', ')}.`);
    }
    const field: Field<unknown> = fields[key];
    const parsed = field.fromText(value);
    if (!parsed.ok) throw invalid(where(key), field, value);
    layer[key] = parsed.value;
  }
  return layer;
}

function readConfigFile(path: string): Layer {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String(error);
    throw new ConfigError(`Cannot read config file ${path}: ${why}.`);
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(source) : parseYaml(source);
  } catch (error) {
    // Never the parser's excerpt of the file: the line may hold a token.
    throw new ConfigError(`Config file ${path} is ${describeParseError(error, source, extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML')}.`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`Config file ${path} must hold settings as "key: value" lines (a mapping), e.g. "port: 8778".`);
  }
  const name = basename(path);
  return checkValues(data as Record<string, unknown>, (key) => `${key} in ${name}`, name);
}

/** Checks typed values (from a file or from code); text is accepted too, as a flag would be. */
function checkValues(values: Record<string, unknown>, where: (key: ConfigKey) => string, sourceName: string): Layer {
  const layer: Layer = {};
  for (const [name, value] of Object.entries(values)) {
    if (!(configKeys as string[]).includes(name)) {
      throw new ConfigError(
        `Unknown setting "${name}" in ${sourceName}.${suggestion(name, configKeys)} Known settings: ${configKeys.join(', ')}.`,
      );
    }
    if (value === undefined) continue;
    const key = name as ConfigKey;
    const field: Field<unknown> = fields[key];
    const parsed = parseValue(field, value);
    if (!parsed.ok) throw invalid(where(key), field, value);
    layer[key] = parsed.value;
  }
  return layer;
}

function parseValue<T>(field: Field<T>, value: unknown): Parsed<T> {
  if (typeof value === 'string') return field.fromText(value);
  const result = field.schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false };
}

function invalid(where: string, field: Field<unknown>, value: unknown): ConfigError {
  const detail = field.explain?.(value);
  const got = field.secret ? 'a value not shown here, as it holds secrets' : JSON.stringify(value);
  const shown = got.length > 120 ? `${got.slice(0, 120)}…` : got;
  return new ConfigError(`Invalid setting: ${where} must be ${field.allowed} (got ${shown})${detail ? `; ${detail.replace(/^\./, '')}` : ''}.`);
}
