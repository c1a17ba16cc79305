/**
 * `type: webhook`: POSTs a channel's messages, and changes of watched keys,
 * to a URL as JSON, one at a time and in order:
 *   {"type":"msg","channel":"alerts","from":"Alice","text":"…"}
 *   {"type":"value","ns":"default","key":"score","value":"42"}   (value null when deleted)
 * A `body` mapping (JSONata, see mapping.ts) builds what is POSTed from that
 * object instead (e.g. Discord's {"content": …}); when it gives nothing, the
 * message is not posted. `headers` values and the `url` may be secrets
 * ({ env: NAME } or { file: path }); a secret URL is shown as its origin only.
 * A failure (no answer within 5 s, 5xx, 429) is retried with backoff; after
 * `attempts` tries, or a 4xx that retrying cannot fix, or when the bounded
 * queue overflows, the message is appended to the dead-letter file (JSON lines).
 */
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Hub, Membership } from '../hub/hub.js';
import type { KeyValue } from '../store/keyvalue.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { z } from 'zod';
import { NAME, NAME_RULE } from '../protocol/names.js';
import { ConfigError } from '../config/errors.js';
import { bridgeName, channelName, headers } from './bridge-spec.js';
import { Expression, toAppText } from './mapping.js';
import { MappingQueue } from './mapping-queue.js';
import { readHeaders, readSecret, SECRET, type Secret } from './secret.js';

const HTTP_URL = /^https?:\/\/.+/;
/** An HTTP header name (RFC 9110 token). */

export const WEBHOOK_SPEC = z
  .object({
    type: z.literal('webhook'),
    name: bridgeName.optional(),
    /** The URL, or { env: NAME } / { file: path } when it holds a token (a Discord webhook URL does). */
    url: z.union([z.string().regex(HTTP_URL, 'url must start with http:// or https://'), ...SECRET.options.slice(1)], {
      error: 'url is an http:// or https:// URL, or { env: NAME_OF_A_VARIABLE } or { file: /path/to/it } that holds one',
    }),
    /** Extra request headers; values may be secrets ({ env: NAME } or { file: path }). */
    headers: headers.default({}),
    /** JSONata building the POSTed body from the message object; nothing posted when it gives nothing. */
    body: z.string().trim().min(1, 'the expression is empty').optional(),
    /** POST each message in this channel. */
    channel: channelName.optional(),
    /** POST each change of these keys (in namespace ns). */
    watch: z.array(z.string().min(1)).default([]),
    ns: z.string().regex(NAME, `ns must be ${NAME_RULE}`).default('default'),
    /** Attempts per message before it goes to the dead-letter file. */
    attempts: z.number().int().min(1).max(100).default(5),
    /** First retry delay; doubles each time, up to 30 s. */
    retryMs: z.number().int().min(10).max(60_000).default(1_000),
    /** Messages that may wait; past it the oldest goes to the dead-letter file. */
    queue: z.number().int().min(1).max(1_000_000).default(1_000),
    /** JSON lines of what could not be delivered. */
    deadLetter: z.string().min(1).default('data/webhook-dead-letters.jsonl'),
  })
  .strict()
  .refine((spec) => spec.channel !== undefined || spec.watch.length > 0, { message: 'a webhook needs a channel, keys to watch, or both' });
export type WebhookSpec = z.infer<typeof WEBHOOK_SPEC>;

const TIMEOUT_MS = 5_000;
/** The dead-letter file stops growing here (a webhook that is down for long, a flooded channel): the disk is not filled. */
export const MAX_DEAD_LETTER_BYTES = 64 * 1024 * 1024;
/** Dead-letter writes in flight at once; past it (a disk slower than the flood) messages are only counted as lost. */
const MAX_BURYING = 64;

export class WebhookBridge implements Bridge {
  private readonly name: string;
  private readonly queue: Record<string, unknown>[] = [];
  private readonly deadLetter: string;
  private membership: Membership | undefined;
  private unwatch: (() => void)[] = [];
  private sending = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly board: StatusBoard;
  /** Size of the dead-letter file as written so far (read from the disk on first use). */
  private deadLetterBytes: number | undefined;
  private sizeReadAt = 0;
  private burying = 0;
  /** Messages neither delivered nor written to the dead-letter file (it was full, or writes could not keep up). */
  private lost = 0;
  private readonly url: Secret;
  /** The URL as logs and status pages may show it: a secret one as its origin only. */
  private readonly shownUrl: string;
  private readonly headers: [name: string, value: Secret][];
  private readonly body: Expression | undefined;
  /** Logs failed body mappings, rate-limited. */
  private readonly mappingLog: MappingQueue;

  constructor(
    private readonly spec: WebhookSpec,
    private readonly hub: Hub,
    private readonly keyvalue: () => KeyValue | undefined,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? `webhook-${spec.channel ?? spec.watch.join('+')}`;
    this.board = new StatusBoard(this.name, 'webhook');
    this.deadLetter = resolve(spec.deadLetter);
    const where = `bridge "${this.name}"`;
    this.url = readSecret(spec.url, `${where}: url`);
    this.shownUrl = typeof spec.url === 'string' ? spec.url : `${secretUrlOrigin(this.url, where)}/…`;
    this.headers = Object.entries(readHeaders(spec.headers, where));
    this.body = spec.body === undefined ? undefined : new Expression(spec.body, `${where}: body`);
    this.mappingLog = new MappingQueue(this.name, log);
  }

  start(): void {
    this.stopped = false;
    this.board.set('connected', `POST to ${this.shownUrl}`);
    const { channel } = this.spec;
    if (channel) {
      this.membership = this.hub.listen(channel, this.name, ({ senderName, text }) => this.enqueue({ type: 'msg', channel, from: senderName, text }));
    }
    const store = this.keyvalue();
    for (const key of this.spec.watch) {
      const stop = store?.watch(this.spec.ns, key, (value) => this.enqueue({ type: 'value', ns: this.spec.ns, key, value: value ?? null }));
      if (stop) this.unwatch.push(stop);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.membership?.leave();
    for (const stop of this.unwatch) stop();
    this.unwatch = [];
    clearTimeout(this.timer);
    this.wake?.();
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }


  private enqueue(body: Record<string, unknown>): void {
    if (this.queue.length >= this.spec.queue) {
      const oldest = this.queue.shift();
      if (oldest) void this.bury(oldest, 'the queue was full');
    }
    this.queue.push(body);
    if (!this.sending) void this.drain();
  }

  /** Sends queued messages one at a time, in order, retrying each with backoff. */
  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0 && !this.stopped) {
      const body = this.queue[0] as Record<string, unknown>;
      const request = await this.request(body);
      if (!request) {
        this.queue.shift();
        continue;
      }
      const backoff = new Backoff(this.spec.retryMs);
      let outcome = await this.post(request);
      for (let attempt = 1; outcome.retry && attempt < this.spec.attempts && !this.stopped; attempt++) {
        const delay = backoff.next();
        this.board.set('retrying', `${outcome.error}; trying again in ${delay / 1000} s`);
        this.log.warn({ bridge: this.name, err: outcome.error, retryInMs: delay }, 'webhook failed; retrying');
        await new Promise<void>((wake) => {
          this.wake = wake;
          this.timer = setTimeout(wake, delay);
        });
        outcome = await this.post(request);
      }
      this.queue.shift();
      if (outcome.error) {
        this.board.set('failed', `${outcome.error}; that message went to the dead-letter file. Check the URL and what it accepts (the next message is tried again)`);
        await this.bury(body, outcome.error);
      } else this.board.set('connected', `POST to ${this.shownUrl}`);
    }
    this.sending = false;
  }

  /** What is POSTed for a message: the object as JSON, or what the body mapping builds (undefined: nothing, or it failed). */
  private async request(message: Record<string, unknown>): Promise<{ text: string; type: string } | undefined> {
    if (!this.body) return { text: JSON.stringify(message), type: 'application/json' };
    try {
      const result = await this.body.evaluate(message);
      const text = toAppText(result, this.body.where);
      if (text === undefined) return undefined;
      // A string is sent as it is; anything else was turned into JSON.
      return { text, type: typeof result === 'string' ? 'text/plain; charset=utf-8' : 'application/json' };
    } catch (error) {
      this.mappingLog.failed('a webhook message', error);
      return undefined;
    }
  }

  private async post(request: { text: string; type: string }): Promise<{ error?: string; retry?: boolean }> {
    try {
      const headers: Record<string, string> = { 'content-type': request.type, 'user-agent': 'resobridge-webhook' };
      for (const [name, value] of this.headers) headers[name.toLowerCase()] = value.reveal();
      // A redirect is not followed: fetch would take the secret headers (and the message) to wherever it points.
      const response = await fetch(this.url.reveal(), { method: 'POST', headers, body: request.text, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
      await response.body?.cancel();
      if (response.ok) return {};
      const retry = response.status >= 500 || response.status === 429;
      return { error: `${this.shownUrl} answered ${response.status}`, retry };
    } catch (error) {
      return { error: `${this.shownUrl} could not be reached (${(error as Error).message})`, retry: true };
    }
  }

  private async bury(body: Record<string, unknown>, why: string): Promise<void> {
    const line = `${JSON.stringify({ time: new Date().toISOString(), url: this.shownUrl, why, body })}\n`;
    // Full: its size is read from the disk again now and then (someone may have moved it away).
    if ((this.deadLetterBytes ?? 0) + Buffer.byteLength(line) > MAX_DEAD_LETTER_BYTES && Date.now() - this.sizeReadAt > 10_000) this.deadLetterBytes = undefined;
    if (this.burying >= MAX_BURYING || (this.deadLetterBytes ?? 0) + Buffer.byteLength(line) > MAX_DEAD_LETTER_BYTES) {
      // Told once per 1,000 lost, not once per message.
      if (this.lost++ % 1_000 === 0) {
        this.log.error({ bridge: this.name, lost: this.lost, deadLetter: this.deadLetter }, `webhook messages lost: the dead-letter file is full (${MAX_DEAD_LETTER_BYTES} bytes) or cannot keep up; move it away to keep more`);
      }
      return;
    }
    this.log.warn({ bridge: this.name, why, deadLetter: this.deadLetter }, 'webhook message not delivered; written to the dead-letter file');
    this.burying++;
    try {
      await mkdir(dirname(this.deadLetter), { recursive: true });
      if (this.deadLetterBytes === undefined) {
        this.sizeReadAt = Date.now();
        this.deadLetterBytes = await stat(this.deadLetter).then((file) => file.size, () => 0);
      }
      this.deadLetterBytes += Buffer.byteLength(line);
      await appendFile(this.deadLetter, line);
    } catch (error) {
      this.log.error({ bridge: this.name, err: error }, 'cannot write the webhook dead-letter file');
    } finally {
      this.burying--;
    }
  }
}

/** A secret URL's origin, or a ConfigError that does not quote it. */
function secretUrlOrigin(url: Secret, where: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url.reveal());
  } catch {
    // Not quoted below: the value is the secret.
  }
  if (!parsed || !HTTP_URL.test(url.reveal())) throw new ConfigError(`${where}: url: the secret's value is not a URL starting with http:// or https://`);
  return parsed.origin;
}
