/**
 * Every setting of the server, described once: its type and range, default,
 * help text, and how it is written as text. The zod schema, the CLI flags,
 * the RESOBRIDGE_* env vars and the config-file keys are all derived from this
 * table, so a new setting is one entry here.
 */
import { z } from 'zod';
import { BROKER_SETTING } from '../hub/broker-setting.js';
import { DEFAULT_SQLITE_PATH, STORE_SETTING } from '../store/store-setting.js';
import { TOKENS_SCHEMA, type TokenSpec } from '../auth/token-spec.js';
import { BRIDGE_TYPES, BRIDGES_SCHEMA, type BridgeSpec } from '../bridges/registry.js';
import { parseOrigin } from '../server/browser-guard.js';
import { describeParseError } from './errors.js';
import { BOOLEAN_WORDS, parseBoolean, parseInteger, type Parsed } from './text-values.js';

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
  /** What exactly is wrong with a value, where a short `allowed` cannot say (structured settings). */
  explain?(value: unknown): string | undefined;
  /** Holds secrets: an error never repeats the value. */
  secret?: boolean;
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

/** Yes or no; as a flag it needs no value (`--allow-anonymous`). */
function boolean(def: boolean, help: string): Field<boolean> {
  return { schema: z.boolean(), default: def, help, allowed: BOOLEAN_WORDS, placeholder: '[yes|no]', fromText: parseBoolean };
}

/** A file path, or empty for none. */
function optionalPath(placeholder: string, help: string): Field<string> {
  return {
    schema: z.string(),
    default: '',
    help,
    allowed: 'a file path',
    placeholder,
    fromText: (value) => ({ ok: true, value: value.trim() }),
  };
}

/** Structured settings (a list in the config file); as a flag or env var, the same as JSON. */
function structured<T>(schema: z.ZodType<T>, def: T, allowed: string, placeholder: string, help: string, secret = false): Field<T> {
  return {
    secret,
    schema,
    default: def,
    help,
    allowed,
    placeholder,
    fromText(value) {
      try {
        const parsed = schema.safeParse(JSON.parse(value));
        return parsed.success ? { ok: true, value: parsed.data } : { ok: false };
      } catch {
        return { ok: false };
      }
    },
    explain(value) {
      let data = value;
      if (typeof value === 'string') {
        try {
          data = JSON.parse(value);
        } catch (error) {
          return describeParseError(error, value, 'JSON');
        }
      }
      const issue = schema.safeParse(data).error?.issues[0];
      return issue && `${issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}: ${issue.message}`;
    },
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

/** Web origins (https://example.org); as text, comma-separated. */
function origins(help: string): Field<string[]> {
  const list = z.array(z.string().refine((text) => parseOrigin(text) !== undefined));
  return {
    schema: list,
    default: [],
    help,
    allowed: 'a list of web origins such as https://my-page.example.org or http://localhost:5173 (scheme, host and port; no path)',
    placeholder: '<origins>',
    fromText(value) {
      const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
      return entries.every((entry) => parseOrigin(entry) !== undefined) ? { ok: true, value: entries } : { ok: false };
    },
    explain(value) {
      const entries = typeof value === 'string' ? value.split(',').map((entry) => entry.trim()) : Array.isArray(value) ? value : [value];
      const bad = entries.find((entry) => typeof entry !== 'string' || parseOrigin(entry) === undefined);
      return bad === undefined ? undefined : `${JSON.stringify(bad)} is not an origin`;
    },
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

export const fields = {
  host: text('127.0.0.1', '<address>', 'address to listen on; 0.0.0.0 lets other machines on your network connect (with tokens, or --allow-anonymous)'),
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
  maxHistoryBytes: integer(
    1_024,
    16 * 1024 * 1024 * 1024,
    64 * 1024 * 1024,
    '<bytes>',
    'bytes of channel history kept over all channels; past it the least recently used channels lose theirs',
  ),
  maxChannelHistoryBytes: integer(1_024, 16 * 1024 * 1024 * 1024, 1024 * 1024, '<bytes>', 'bytes of history kept per channel; past it its oldest messages go'),
  store: pattern(
    'sqlite',
    STORE_SETTING,
    `memory, sqlite (the file ${DEFAULT_SQLITE_PATH}), sqlite:PATH, or a postgres://user@host:port/database URL`,
    '<store>',
    `where keys are kept: sqlite (${DEFAULT_SQLITE_PATH}), sqlite:PATH, memory (lost on restart), or postgres://…`,
  ),
  broker: pattern(
    'memory',
    BROKER_SETTING,
    'memory (one node), or the URL of the Redis or NATS server the nodes share, e.g. redis://127.0.0.1:6379 or nats://127.0.0.1:4222 (see docs/scaling.md)',
    '<url>',
    'how several nodes share channels, presence and watched keys: memory (this node only), redis://… or nats://… (see docs/scaling.md)',
  ),
  maxKeyBytes: integer(1, 4096, 256, '<bytes>', 'longest key the store accepts'),
  maxValueBytes: integer(1, 16 * 1024 * 1024, 64 * 1024, '<bytes>', 'largest value the store accepts'),
  maxKeysPerNamespace: integer(1, 100_000_000, 10_000, '<count>', 'keys one namespace (?ns=) may hold; a set of a new key past it is refused'),
  maxStoreBytes: integer(
    1_024,
    1024 * 1024 * 1024 * 1024,
    256 * 1024 * 1024,
    '<bytes>',
    'bytes of keys and values the store may hold over all namespaces; a write that would go past it is refused',
  ),
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
  outboundRate: integer(0, 100_000, 30, '<per-second>', 'messages per second sent to each client (a world handles tens, not thousands); 0 = unpaced'),
  outboundBurst: integer(1, 100_000, 10, '<count>', 'messages that may go at once after a quiet spell'),
  outboundQueue: integer(1, 100_000, 200, '<count>', 'messages that may wait per client; past it channel messages drop oldest-first'),
  outboundMaxAgeMs: integer(
    0,
    600_000,
    2_000,
    '<ms>',
    'longest a channel message may wait for a slow client before it is dropped (it sees recent messages, not old ones); 0 = no age limit',
  ),
  maxOutboundRate: integer(0, 100_000, 1_000, '<per-second>', 'highest ?rate= a client may ask for; 0 = no cap (clients may then ask for rate=0, unpaced)'),
  endpointRates: pattern(
    '',
    /^(|[a-z/][\w/.-]*=\d+(,[a-z/][\w/.-]*=\d+)*)$/,
    'a list like channel=20,api=60 (endpoint=messages per second)',
    '<list>',
    'outboundRate for particular endpoints, e.g. channel=20,api=60,echo=100',
  ),
  maxBufferedBytes: integer(
    1_024,
    256 * 1024 * 1024,
    1024 * 1024,
    '<bytes>',
    'bytes waiting in a client socket before its channel messages are held back (see maxQueuedBytes for the bound on everything waiting)',
  ),
  maxQueuedBytes: integer(
    64 * 1024,
    1024 * 1024 * 1024,
    4 * 1024 * 1024,
    '<bytes>',
    'bytes that may wait for one client, replies included; past it the server stops reading from it, and closes it at twice this or after stallTimeoutMs',
  ),
  stallTimeoutMs: integer(100, 600_000, 30_000, '<ms>', 'longest a client over maxQueuedBytes may read nothing (its socket full) before it is closed'),
  inboundRate: integer(0, 1_000_000, 100, '<per-second>', 'messages per second a client may send (with a burst of twice that); 0 = no limit'),
  inboundBytesRate: integer(0, 1024 * 1024 * 1024, 1024 * 1024, '<bytes-per-second>', 'bytes per second a client may send; 0 = no limit'),
  addressInboundRate: integer(0, 1_000_000, 500, '<per-second>', 'messages per second all clients from one address may send together; 0 = no limit'),
  maxConnections: integer(1, 1_000_000, 20_000, '<count>', 'connections the server accepts in total'),
  maxConnectionsPerAddress: integer(1, 1_000_000, 100, '<count>', 'connections one address may hold'),
  handshakeRate: integer(0, 1_000_000, 50, '<per-second>', 'new connections per second from one address; 0 = no limit'),
  maxPendingSocketsPerAddress: integer(
    1,
    1_000_000,
    32,
    '<count>',
    'sockets one address may hold that are not WebSocket connections (yet): handshakes in progress and plain HTTP; past it a new one gets 429 at once',
  ),
  tokens: structured<TokenSpec[]>(
    TOKENS_SCHEMA,
    [],
    'a list of tokens, each with a name, a token (or its sha256) and what it allows (see docs/security.md)',
    '<json>',
    'access tokens and what each may use; with none, the server is open (see docs/security.md)',
    true,
  ),
  bridges: structured<BridgeSpec[]>(
    BRIDGES_SCHEMA,
    [],
    `a list of bridges, each with a type (${BRIDGE_TYPES.join(', ')}) and its settings (see docs/bridges.md)`,
    '<json>',
    'bridges to programs and other applications (see docs/bridges.md)',
    true, // passwords and header values: an error names the key that is wrong, never the values
  ),
  exec: pattern(
    '',
    /^(|\/[\w./~-]*=.+)$/,
    'PATH=COMMAND, e.g. /weather=python3 weather.py',
    '<path=command>',
    'run a program per connection at a path, websocketd-style: /weather=python3 weather.py',
  ),
  allowAnonymous: boolean(false, 'allow listening on a non-loopback address with no tokens (anyone who can reach it may use it)'),
  allowedOrigins: origins('web pages (origins) that may use the server from a browser, comma-separated; by default none but its own dashboard'),
  trustProxy: boolean(false, 'take the client address from X-Forwarded-For, the entry your proxy added last (only behind your own reverse proxy)'),
  tlsCert: optionalPath('<file>', 'PEM certificate (chain) for wss://; reloaded on SIGHUP'),
  tlsKey: optionalPath('<file>', 'PEM private key for wss://; reloaded on SIGHUP'),
  dashboard: boolean(true, 'serve the live dashboard at http://HOST:PORT/ (--no-dashboard turns it off; see docs/dashboard.md)'),
  mcp: boolean(false, 'serve an MCP endpoint for AI agents at http://HOST:PORT/mcp (Streamable HTTP; only from this computer unless tokens are configured; see docs/agents.md)'),
  dashboardToken: {
    ...pattern(
      '',
      /^(|\S{16,})$/,
      'a token of at least 16 characters without spaces (resobridge token makes one)',
      '<token>',
      'admin token for the dashboard when it is reachable from other machines (tokens that allow * work too)',
    ),
    secret: true,
  },
  logLevel: choice(LOG_LEVELS, 'info', '<level>', 'how much to log'),
  logFormat: choice(LOG_FORMATS, 'auto', '<format>', 'pretty for people, json for log collectors, auto (pretty on a terminal)'),
} satisfies Record<string, Field<number> | Field<string> | Field<boolean> | Field<string[]> | Field<TokenSpec[]> | Field<BridgeSpec[]>>;

export type ConfigKey = keyof typeof fields;
export const configKeys = Object.keys(fields) as ConfigKey[];

type ValueOf<F> = F extends Field<infer T> ? T : never;
/** The server's settings, every one filled in. */
export type Config = { [K in ConfigKey]: ValueOf<(typeof fields)[K]> };
