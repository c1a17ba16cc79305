/**
 * The http bridge's poll: GET a URL every `every` seconds (counted from the
 * end of one poll to the start of the next, so polls never overlap), with
 * If-None-Match / If-Modified-Since from the last answer, so an unchanged
 * resource costs a 304 and publishes nothing. A 200 is mapped by the `in`
 * mapping into lines (published to the channel, coalesced per line key) and
 * store keys; only what differs from what was last published goes out.
 */
import type { Hub } from '../hub/hub.js';
import type { ThrottledLog } from '../log/throttled.js';
import type { KeyValue } from '../store/keyvalue.js';
import { Backoff } from './backoff.js';
import type { BridgeState, StatusBoard } from './bridge.js';
import { exchange, HttpFailure, type HttpLimits } from './http-fetch.js';
import { LastPublished } from './last-published.js';
import type { InMapping } from './mapping.js';

export interface PollSettings {
  url: string;
  everyMs: number;
  channel: string | undefined;
  ns: string;
  remember: number;
  /** Longest line published (maxMessageBytes); longer ones are dropped and logged. */
  maxLineBytes: number;
}

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private readonly published: LastPublished;
  private readonly backoff: Backoff;
  /** How the last poll went, for the status line. */
  note = 'not started';

  constructor(
    private readonly name: string,
    private readonly settings: PollSettings,
    private readonly mapping: InMapping,
    private readonly headers: () => Record<string, string>,
    private readonly limits: () => HttpLimits,
    private readonly hub: Hub,
    private readonly keyvalue: () => KeyValue | undefined,
    private readonly board: StatusBoard,
    private readonly throttled: ThrottledLog,
  ) {
    this.published = new LastPublished(settings.remember);
    // A failing API is asked again after `every`, then less and less often (up to 8 × every, at least 30 s).
    this.backoff = new Backoff(settings.everyMs, Math.max(30_000, settings.everyMs * 8));
  }

  start(): void {
    this.stopped = false;
    this.setState('connecting', 'first poll under way');
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The state; the bridge writes the detail line from `note` when asked. */
  private setState(state: BridgeState, note: string): void {
    this.note = note;
    this.board.set(state, note);
  }

  private schedule(delayMs: number): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    let delay = this.settings.everyMs;
    try {
      const outcome = await this.pollOnce();
      this.backoff.reset();
      this.setState('connected', outcome);
    } catch (error) {
      if (this.stopped) return;
      const why = error instanceof HttpFailure ? error.message : `the poll failed (${(error as Error).message})`;
      delay = this.backoff.next();
      this.setState('retrying', `${why}; polling again in ${delay / 1000} s`);
      this.throttled.warn(`http-poll:${this.name}`, { bridge: this.name, why, retryInMs: delay }, 'http bridge poll failed; retrying');
    }
    this.schedule(delay);
  }

  /** One poll; what happened, for the status line. Throws HttpFailure when the answer is unusable. */
  private async pollOnce(): Promise<string> {
    const headers = { ...this.headers() };
    if (this.etag !== undefined) headers['if-none-match'] = this.etag;
    if (this.lastModified !== undefined) headers['if-modified-since'] = this.lastModified;
    const answer = await exchange(this.settings.url, { method: 'GET', headers }, this.limits());
    if (answer.status === 304) return 'last answer 304 (not modified)';
    if (answer.status < 200 || answer.status > 299) throw new HttpFailure(`the API answered ${answer.status}`, answer.status >= 500 || answer.status === 429);
    let json: unknown;
    try {
      json = JSON.parse(answer.text) as unknown;
    } catch {
      throw new HttpFailure(`the answer is not JSON (content-type ${answer.headers.get('content-type') ?? 'not given'})`, false);
    }
    this.etag = answer.headers.get('etag') ?? undefined;
    this.lastModified = answer.headers.get('last-modified') ?? undefined;
        await this.publish(json);
    return `last answer ${answer.status}`;
  }

  /** Maps one answer and publishes what changed; a mapping that fails drops this answer only. */
  private async publish(json: unknown): Promise<void> {
    let mapped;
    try {
      mapped = await this.mapping.apply(json);
    } catch (error) {
      this.throttled.warn(`http-mapping:${this.name}`, { bridge: this.name, why: (error as Error).message }, 'http bridge could not map an answer; it was dropped');
      return;
    }
    const { channel } = this.settings;
    for (const line of mapped.lines) {
      if (Buffer.byteLength(line.text) > this.settings.maxLineBytes) {
        this.throttled.warn(`http-line:${this.name}`, { bridge: this.name, bytes: Buffer.byteLength(line.text), max: this.settings.maxLineBytes }, 'http bridge mapped a line over maxMessageBytes; it was dropped (pick fewer fields in poll.in.lines)');
        continue;
      }
      if (!channel || !this.published.changed(`line|${line.key}`, line.text)) continue;
      this.hub.publish({ type: 'message', channel, senderName: this.name, text: line.text, coalesce: line.key });
    }
    const store = this.keyvalue();
    for (const [key, value] of mapped.keys) {
      const memo = `key|${key}`;
      if (!store || !this.published.changed(memo, value)) continue;
      try {
        if (value === undefined) await store.delete(this.settings.ns, key);
        else await store.set(this.settings.ns, key, value);
      } catch (error) {
        this.published.forget(memo); // tried again on the next answer
        this.throttled.warn(`http-keys:${this.name}`, { bridge: this.name, key, why: (error as Error).message }, 'http bridge could not store a key');
      }
    }
  }
}
