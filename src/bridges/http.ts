/**
 * `type: http`: a JSON API, polled or asked.
 *   poll:    GET a URL every `every` seconds (ETag / Last-Modified honoured),
 *            map the JSON into lines on a channel and/or store keys, and
 *            publish only what changed (see http-poll.ts).
 *   request: a command-mode verb (`ask|…`) or a tagged line on a channel
 *            becomes an HTTP request; the mapped answer goes back to the
 *            asking world only (see http-request.ts).
 * Headers may be secrets (env or file); they are sent and never shown.
 * docs/bridges.md has the config, the world lines and the limits.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { arg, type Args } from '../app/args.js';
import type { Commands } from '../app/commands.js';
import { ConfigError } from '../config/errors.js';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership, Recipient } from '../hub/hub.js';
import { ThrottledLog } from '../log/throttled.js';
import { messages } from '../protocol/messages.js';
import { parseLine } from '../protocol/line.js';
import { NAME, NAME_RULE } from '../protocol/names.js';
import type { KeyValue } from '../store/keyvalue.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName, headers } from './bridge-spec.js';
import type { HttpLimits } from './http-fetch.js';
import { Poller } from './http-poll.js';
import { Requests, type Answer, type Asked } from './http-request.js';
import { UrlTemplate } from './http-template.js';
import { Expression, IN_MAPPING, InMapping, MappingError } from './mapping.js';
import { readHeaders, type Secret } from './secret.js';

/** Shortest poll interval: an API is not a stream (use websocket, mqtt or osc for those). */
export const MIN_POLL_SECONDS = 1;

const expression = z.string().trim().min(1, 'the expression is empty');
const verbName = z.string().regex(/^[a-z][a-z0-9_.-]{0,31}$/, 'a verb is 1 to 32 lower-case letters, digits, dots, dashes or underscores, starting with a letter');
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const POLL_SPEC = z
  .object({
    url: z.string().regex(/^https?:\/\/\S+$/, 'url must start with http:// or https://'),
    /** Seconds between the end of one poll and the start of the next. */
    every: z.number().min(MIN_POLL_SECONDS, `every is in seconds, at least ${MIN_POLL_SECONDS}`).max(86_400, 'every is at most 86400 (a day)').default(60),
    /** Where the mapped lines go. */
    channel: channelName.optional(),
    /** Namespace of the mapped keys. */
    ns: z.string().regex(NAME, `ns must be ${NAME_RULE}`).default('default'),
    in: IN_MAPPING,
    /** Line keys and store keys whose last published value is remembered (to publish only changes). */
    remember: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict()
  .refine((poll) => poll.in.lines === undefined || poll.channel !== undefined, { message: 'poll.in.lines needs poll.channel: the channel the lines are published to' });

const REQUEST_SPEC = z
  .object({
    /** A command-mode verb: `ask|<args…>`. */
    verb: verbName.optional(),
    /** The verb's fields, by name, in order; the last takes the rest of the line. */
    args: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'an arg name is lower-case letters, digits and _')).max(16).default(['text']),
    /** A channel whose lines with one of `tags` are requests. */
    channel: channelName.optional(),
    tags: z.array(z.string().min(1).regex(/^[^|#]+$/, 'a tag has no | or #')).min(1).optional(),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    /** https://host/path?q={expression}: each {…} is JSONata over {tag, args, from, channel, id}, percent-encoded. */
    url: z.string().regex(/^https?:\/\/\S+$/, 'url must start with http:// or https://'),
    /** JSONata over {tag, args, from, channel, id}: an object is sent as JSON, a string as text. */
    body: expression.optional(),
    /** JSONata over {status, body, request}: the one line the asker gets back. */
    reply: expression.default('[request.tag, body]'),
    /** Tries after the first, for GET, HEAD, PUT and DELETE only. */
    retries: z.number().int().min(0).max(10).default(2),
    /** First retry delay; doubles each time, up to 30 s. */
    retryMs: z.number().int().min(10).max(60_000).default(500),
    maxInFlight: z.number().int().min(1).max(10_000).default(16),
    maxInFlightPerWorld: z.number().int().min(1).max(1_000).default(4),
  })
  .strict()
  .refine((request) => request.verb !== undefined || request.channel !== undefined, { message: 'a request needs a verb (command mode), a channel, or both' })
  .refine((request) => request.channel === undefined || request.tags !== undefined || request.verb !== undefined, {
    message: 'request.channel needs tags: the first fields of the lines that are requests (e.g. tags: [ask])',
  })
  .refine((request) => request.body === undefined || !['GET', 'HEAD'].includes(request.method), { message: 'a GET or HEAD request has no body; use method: POST (or PUT, PATCH)' });

export const HTTP_SPEC = z
  .object({
    type: z.literal('http'),
    name: bridgeName.optional(),
    /** Sent with every request; values may be secrets ({env: NAME} or {file: path}). */
    headers: headers.default({}),
    /** Longest one exchange (headers and body) may take. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Largest answer read; past it the exchange is abandoned. */
    maxResponseBytes: z.number().int().min(1).max(64 * 1024 * 1024).default(1024 * 1024),
    poll: POLL_SPEC.optional(),
    request: REQUEST_SPEC.optional(),
  })
  .strict()
  .refine((spec) => spec.poll !== undefined || spec.request !== undefined, { message: 'an http bridge needs poll, request, or both' });
export type HttpSpec = z.infer<typeof HTTP_SPEC>;

export interface HttpBridgeContext {
  hub: Hub;
  log: Logger;
  keyvalue: () => KeyValue | undefined;
  commands: Commands;
  /** Lines to worlds are kept within it too: a world is not sent more than it may send. */
  maxMessageBytes: number;
}

export class HttpBridge implements Bridge {
  private readonly name: string;
  private readonly board: StatusBoard;
  private readonly headers: Record<string, Secret>;
  private readonly throttled: ThrottledLog;
  private readonly poller: Poller | undefined;
  private readonly requests: Requests | undefined;
  private readonly tags: string[];
  private membership: Membership | undefined;
  private aborter = new AbortController();
  private running = false;

  constructor(
    private readonly spec: HttpSpec,
    private readonly context: HttpBridgeContext,
  ) {
    this.name = spec.name ?? 'http';
    const where = `bridge "${this.name}"`;
    this.board = new StatusBoard(this.name, 'http');
    this.throttled = new ThrottledLog(context.log);
    this.headers = readHeaders(spec.headers, where);
    const headers = () => this.revealHeaders();
    const limits = (): HttpLimits => ({ timeoutMs: spec.timeoutMs, maxBytes: spec.maxResponseBytes, signal: this.aborter.signal });
    try {
      if (spec.poll) {
        const { poll } = spec;
        const settings = { url: poll.url, everyMs: poll.every * 1000, channel: poll.channel, ns: poll.ns, remember: poll.remember, maxLineBytes: context.maxMessageBytes };
        const mapping = new InMapping(poll.in, `${where}: poll.in`);
        this.poller = new Poller(this.name, settings, mapping, headers, limits, context.hub, context.keyvalue, this.board, this.throttled);
      }
      const { request } = spec;
      this.tags = request?.channel ? (request.tags ?? [request.verb ?? '']) : [];
      if (request) {
        this.requests = new Requests(
          this.name,
          {
            method: request.method,
            url: new UrlTemplate(request.url, `${where}: request.url`),
            body: request.body === undefined ? undefined : new Expression(request.body, `${where}: request.body`),
            reply: new InMapping({ lines: request.reply }, `${where}: request.reply`),
            retries: request.retries,
            retryMs: request.retryMs,
            maxInFlight: request.maxInFlight,
            maxInFlightPerWorld: request.maxInFlightPerWorld,
            maxLineBytes: context.maxMessageBytes,
          },
          headers,
          limits,
          this.throttled,
        );
        if (request.verb) this.registerVerb(request.verb, request.args, where);
      }
    } catch (error) {
      if (error instanceof MappingError) throw new ConfigError(error.message);
      throw error;
    }
  }

  start(): void {
    this.running = true;
    this.aborter = new AbortController();
    const channel = this.spec.request?.channel;
    if (channel) this.membership = this.context.hub.listen(channel, this.name, (event, sender) => this.fromChannel(event, sender));
    if (this.poller) this.poller.start();
    else this.board.set('connected', this.describe('ready'));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poller?.stop();
    this.membership?.leave();
    this.membership = undefined;
    this.aborter.abort();
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    const current = this.board.get();
    // The request counters change without a state change: the line is made when asked.
    if (this.running) return { ...current, detail: this.describe(this.poller?.note ?? 'ready') };
    return current;
  }

  /** The status line: what it polls and answers (URLs without their query, which may hold a key), and how it is doing. */
  private describe(state: string): string {
    const parts: string[] = [];
    if (this.spec.poll) parts.push(`GET ${shown(this.spec.poll.url)} every ${this.spec.poll.every} s: ${state}`);
    const { request } = this.spec;
    if (request && this.requests) {
      const from = [request.verb ? `verb ${request.verb}` : '', request.channel ? `${this.tags.join('/')} lines in ${request.channel}` : ''].filter(Boolean).join(' and ');
      parts.push(`${from} → ${request.method} ${shown(request.url)} (${this.requests.done} answered, ${this.requests.failed} failed, ${this.requests.active} in flight)`);
    }
    return parts.join('; ');
  }

  private revealHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': 'resobridge-http' };
    for (const [header, secret] of Object.entries(this.headers)) headers[header] = secret.reveal();
    return headers;
  }

  private registerVerb(verb: string, names: string[], where: string): void {
    if (this.context.commands.has(verb)) throw new ConfigError(`${where}: request.verb "${verb}" is taken by another command; pick another verb`);
    const args: Args = Object.fromEntries(names.map((name, i) => [name, i === names.length - 1 ? arg.text().rest().optional() : arg.text().optional()]));
    this.context.commands.register(verb, {
      help: `asks ${this.name}'s API; the answer comes when the API answers, to you only (add an id to match it: ${verb}#1|…)`,
      args,
      handler: (values, command) => {
        const fields = names.map((name) => values[name] as string | undefined);
        while (fields.length > 0 && fields.at(-1) === undefined) fields.pop();
        const asked: Asked = { tag: verb, args: fields.map((field) => field ?? ''), from: command.connection.name, channel: '', id: command.id };
        this.ask(asked, `connection ${command.connection.id}`, (message) => command.reply(message));
      },
    });
  }

  /** A line on the request channel: `<tag>[#id]|<args…>` from a world. */
  private fromChannel({ channel, senderName, text, id: remote }: ChannelMessage, sender: Recipient | undefined): void {
    if (senderName === this.name) return; // its own poll lines, when they share the channel
    // A line from another cluster node is that node's bridge's to answer: it has the asker to whisper to.
    if (remote !== undefined) return;
    const [head = '', ...args] = parseLine(text);
    const hash = head.indexOf('#');
    const tag = hash < 0 ? head : head.slice(0, hash);
    if (!this.tags.includes(tag)) return;
    const id = hash < 0 ? undefined : head.slice(hash + 1);
    const whisper: Answer = (message) => {
      this.context.hub.whisper({ type: 'message', channel, senderName: this.name, text: message.withId(ID.test(id ?? '') ? id : undefined).encode('line') }, sender ?? senderName);
    };
    if (id !== undefined && !ID.test(id)) return whisper(messages.error(this.name, `bad request id after #: an id is 1 to 64 letters, digits, dots, dashes, colons or underscores`));
    this.ask({ tag, args, from: senderName, channel, id }, `name ${senderName} in ${channel}`, whisper);
  }

  private ask(asked: Asked, world: string, answer: Answer): void {
    if (!this.running || !this.requests) return answer(messages.error(this.name, 'the bridge is stopped'));
    this.requests.ask(asked, world, answer);
  }
}

/** A URL without its query (an API key often travels there) or password. */
function shown(url: string): string {
  const cut = url.search(/[?#]/);
  const base = cut < 0 ? url : `${url.slice(0, cut)}?…`;
  return base.replace(/\/\/[^@/]*@/, '//');
}
