/**
 * The http bridge's requests: a world asks (a command-mode verb, or a tagged
 * line on a channel), the bridge builds an HTTP request from it, and the
 * mapped answer goes back to that world only.
 *
 *   command mode:  ask#7|Paris            → reply  weather#7|Paris|12.5   (to that connection)
 *   channel line:  ask#7|Paris (from Alice) → whisper weather#7|Paris|12.5 to the members named Alice
 *
 * A command's answer comes when the API answers; the connection's next
 * commands do not wait for it. Each world has a bounded number of requests
 * in flight, and so has the bridge. Idempotent requests (GET, HEAD, PUT,
 * DELETE) that fail for a reason that may pass (no answer, 5xx, 429) are
 * retried with backoff; others get one try. Failures go to the asker as
 * `error|<bridge>|<why>` (with the request id).
 */
import type { ThrottledLog } from '../log/throttled.js';
import { Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { escapeField, parseLine } from '../protocol/line.js';
import { Backoff } from './backoff.js';
import { exchange, HttpFailure, type HttpLimits } from './http-fetch.js';
import type { UrlTemplate } from './http-template.js';
import { InMapping, toAppText, type Expression } from './mapping.js';

/** What the url and body expressions see: `ask#7|Paris` from Alice → {tag: "ask", args: ["Paris"], from: "Alice", channel: "ai", id: "7"}. */
export interface Asked {
  tag: string;
  args: string[];
  from: string;
  /** The channel of a line; "" for a command. */
  channel: string;
  id: string | undefined;
}

/** Where the answer goes: a command's reply, or a whisper. */
export type Answer = (message: Message) => void;

export interface RequestSettings {
  method: string;
  url: UrlTemplate;
  body: Expression | undefined;
  reply: InMapping;
  retries: number;
  retryMs: number;
  maxInFlight: number;
  maxInFlightPerWorld: number;
  /** Longest answer line (maxMessageBytes). */
  maxLineBytes: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

export class Requests {
  private inFlight = 0;
  /** Requests in flight per world (a connection, or a sender's name on a channel); entries go at 0, so it is bounded by maxInFlight. */
  private readonly perWorld = new Map<string, number>();
  /** Counters for the status line. */
  done = 0;
  failed = 0;

  constructor(
    private readonly name: string,
    private readonly settings: RequestSettings,
    private readonly headers: () => Record<string, string>,
    private readonly limits: () => HttpLimits,
    private readonly throttled: ThrottledLog,
  ) {}

  get active(): number {
    return this.inFlight;
  }

  /** Starts a request for `world` and answers it once, later; never throws. */
  ask(asked: Asked, world: string, answer: Answer): void {
    const error = (why: string) => answer(messages.error(this.name, why));
    const mine = this.perWorld.get(world) ?? 0;
    if (mine >= this.settings.maxInFlightPerWorld) {
      return error(`you have ${mine} requests waiting for an answer already (maxInFlightPerWorld); wait for one`);
    }
    if (this.inFlight >= this.settings.maxInFlight) {
      return error(`the bridge has ${this.inFlight} requests waiting for an answer already (maxInFlight); try again in a moment`);
    }
    this.inFlight++;
    this.perWorld.set(world, mine + 1);
    void this.run(asked)
      .then(
        (message) => {
          this.done++;
          answer(message);
        },
        (failure: unknown) => {
          this.failed++;
          const why = failure instanceof HttpFailure ? failure.message : (failure as Error).message;
          this.throttled.warn(`http-request:${this.name}`, { bridge: this.name, tag: asked.tag, why }, 'http bridge request failed');
          error(why);
        },
      )
      .finally(() => {
        this.inFlight--;
        const left = (this.perWorld.get(world) ?? 1) - 1;
        if (left > 0) this.perWorld.set(world, left);
        else this.perWorld.delete(world);
      });
  }

  /** Builds, sends (retrying when that is safe) and maps one request. */
  private async run(asked: Asked): Promise<Message> {
    const { method } = this.settings;
    let url: string;
    let body: string | undefined;
    let json = false;
    try {
      url = await this.settings.url.fill(asked);
      const built = this.settings.body ? await this.settings.body.evaluate(asked) : undefined;
      body = this.settings.body ? toAppText(built, this.settings.body.where) : undefined;
      json = typeof built !== 'string';
    } catch (error) {
      throw new Error(`the request could not be built: ${(error as Error).message}`);
    }
    const headers = { ...this.headers() };
    if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = json ? 'application/json' : 'text/plain; charset=utf-8';
    }
    const backoff = new Backoff(this.settings.retryMs);
    const attempts = IDEMPOTENT.has(method) ? 1 + this.settings.retries : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await exchange(url, { method, headers, body }, this.limits());
        if (answer.status >= 200 && answer.status <= 299) return await this.map(answer.status, answer.text, asked);
        throw new HttpFailure(`the API answered ${answer.status}`, answer.status >= 500 || answer.status === 429);
      } catch (error) {
        if (!(error instanceof HttpFailure) || !error.transient || attempt >= attempts || this.limits().signal?.aborted) {
          if (error instanceof HttpFailure && error.transient && attempts > 1) throw new HttpFailure(`${error.message}, ${attempts} times`, true);
          throw error;
        }
        await sleep(backoff.next(), this.limits().signal);
      }
    }
  }

  /** The answer → one line for the world (`ok|<tag>|<bridge>` when the reply mapping gives none). */
  private async map(status: number, text: string, asked: Asked): Promise<Message> {
    const mapped = await this.settings.reply.apply({ status, body: InMapping.input(text), request: asked });
    const [line, ...more] = mapped.lines;
    if (more.length > 0) throw new Error(`the reply mapping made ${mapped.lines.length} lines; a reply is one line (a list of fields)`);
    if (!line) return messages.ok(asked.tag, this.name);
    const bytes = Buffer.byteLength(line.text);
    if (bytes > this.settings.maxLineBytes) throw new Error(`the answer made a line of ${bytes} bytes, over maxMessageBytes (${this.settings.maxLineBytes}); pick fewer fields in request.reply`);
    const [tag = '', ...fields] = parseLine(line.text);
    return Message.of(escapeField(tag), fields);
  }
}

/** Waits, or less if the bridge stops (the listener goes either way: a long-lived signal must not collect them). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
