/**
 * `type: websocket`: resobridge as a client of an app's WebSocket API.
 *   App → world: each text message the app sends becomes world lines in
 *     `channel` through the `in` mapping (and store keys through `in.keys`),
 *     or, with no `in` mapping, is published exactly as it came.
 *   World → app: each line a world sends in `channel` goes to the app through
 *     the `out` mapping (the JSON it builds, as text), or, with no `out`
 *     mapping, exactly as it came.
 * The connection reconnects with backoff and sends `onOpen` (the app's
 * handshake) each time; a close code in `noRetryCodes` stops it for good in
 * state 'failed'. While the app is away, world lines are dropped (counted in
 * the status), never queued.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership } from '../hub/hub.js';
import { ThrottledLog } from '../log/throttled.js';
import { NAME, NAME_RULE } from '../protocol/names.js';
import type { KeyValue } from '../store/keyvalue.js';
import { AppSocket } from './app-socket.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName, headers, HTTP_TOKEN } from './bridge-spec.js';
import { IN_MAPPING, InMapping, OUT_MAPPING, OutMapping } from './mapping.js';
import { readHeaders, readSecret, SECRET } from './secret.js';

/** A message for the app: a string is sent as it is, a JSON object (or array) as JSON text. */
const APP_MESSAGE = z.union([z.string().min(1, 'the message is empty'), z.record(z.string(), z.unknown()), z.array(z.unknown())], {
  error: 'a message is a string (sent as it is) or a JSON object (sent as JSON text)',
});
/** An HTTP header name (RFC 9110 token). */

/**
 * Close codes that mean "don't retry" unless the config says otherwise:
 * 1008 policy violation (RFC 6455's code for "refused", which servers use for
 * bad credentials), and obs-websocket's 4009 authentication failed, 4010
 * unsupported RPC version and 4011 kicked ("do not reconnect"). Retrying
 * these only hammers the app (and may get an account locked).
 */
export const DEFAULT_NO_RETRY_CODES = [1008, 4009, 4010, 4011];

export const WEBSOCKET_SPEC = z
  .object({
    type: z.literal('websocket'),
    name: bridgeName.optional(),
    url: z
      .string()
      .regex(/^wss?:\/\/[^/?#\s]+/, 'url must look like ws://host:port/path (or wss://)')
      .refine((url) => URL.canParse(url), 'url is not a valid URL (check the host, the port and the characters in it)'),
    /** Added to the url's query when connecting; values may be secrets (a token the app wants in the URL). */
    query: z.record(z.string().min(1, 'a query parameter needs a name'), SECRET).default({}),
    /** Sent when connecting, e.g. Authorization; values may be secrets ({env: …} or {file: …}). */
    headers: headers.default({}),
    subprotocol: z.string().regex(HTTP_TOKEN, 'a subprotocol is one word (letters, digits, . _ -)').optional(),
    /** Sent in order every time the connection opens: the app's handshake. */
    onOpen: z.array(APP_MESSAGE).max(100, 'at most 100 messages on open').default([]),
    /** WebSocket ping every this many seconds; no pong before the next one and the app is taken for gone (0: off). */
    ping: z.number().min(0).max(3600).default(20),
    /** An app-level keepalive: `send` every `every` seconds while connected. */
    keepalive: z.object({ every: z.number().min(1).max(86_400), send: APP_MESSAGE }).strict().optional(),
    /** World lines in it go to the app; what the app sends is published in it. */
    channel: channelName,
    in: IN_MAPPING.optional(),
    out: OUT_MAPPING.optional(),
    /** The store namespace `in.keys` writes to. */
    ns: z.string().regex(NAME, `ns must be ${NAME_RULE}`).default('default'),
    /** A world that falls behind gets only the latest line per key (tag|first field): for states, not for chat or events. */
    coalesce: z.boolean().default(false),
    noRetryCodes: z.array(z.number().int().min(1000).max(4999)).default(DEFAULT_NO_RETRY_CODES),
    /** Largest message taken from the app (default: the server's maxMessageBytes). */
    maxMessageBytes: z.number().int().min(128).max(16 * 1024 * 1024).optional(),
  })
  .strict();
export type WebSocketSpec = z.infer<typeof WEBSOCKET_SPEC>;

/** App messages waiting for the in mapping; at this many the app is not read from (TCP pushes back). */
const PAUSE_AT = 64;
/** Past this many (messages already read when it was paused) the newest are dropped: the hard bound. */
export const MAX_INBOX = 256;
/** World lines waiting for the out mapping; past it they are dropped (an out mapping slower than the world). */
export const MAX_OUTBOX = 256;

/** A message as the app is sent it. */
export function appText(message: unknown): string {
  return typeof message === 'string' ? message : JSON.stringify(message);
}

export class WebSocketBridge implements Bridge {
  private readonly name: string;
  private readonly board: StatusBoard;
  private readonly app: AppSocket;
  private readonly inMapping: InMapping | undefined;
  private readonly outMapping: OutMapping | undefined;
  private readonly throttled: ThrottledLog;
  private membership: Membership | undefined;
  private readonly inbox: string[] = [];
  private readonly outbox: ChannelMessage[] = [];
  private drainingIn = false;
  private drainingOut = false;
  /** World lines dropped because the app was away (since it was last connected). */
  private droppedWhileAway = 0;

  constructor(
    private readonly spec: WebSocketSpec,
    private readonly hub: Hub,
    private readonly keyvalue: () => KeyValue | undefined,
    maxMessageBytes: number,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? `websocket-${spec.channel}`;
    const where = `bridge "${this.name}"`;
    this.board = new StatusBoard(this.name, 'websocket');
    this.throttled = new ThrottledLog(log);
    this.inMapping = spec.in && new InMapping(spec.in, `${where}: in`);
    this.outMapping = spec.out && new OutMapping(spec.out, `${where}: out`);
    this.app = new AppSocket({
      name: this.name,
      url: spec.url,
      headers: readHeaders(spec.headers, where),
      query: Object.fromEntries(Object.entries(spec.query).map(([name, ref]) => [name, readSecret(ref, `${where}: query.${name}`)])),
      subprotocol: spec.subprotocol,
      handshake: spec.onOpen.map(appText),
      pingMs: spec.ping * 1000,
      keepalive: spec.keepalive && { everyMs: spec.keepalive.every * 1000, text: appText(spec.keepalive.send) },
      noRetryCodes: spec.noRetryCodes,
      maxMessageBytes: spec.maxMessageBytes ?? maxMessageBytes,
      log,
      board: this.board,
      describe: () => this.describe(),
      onText: (text) => this.fromApp(text),
      onOpen: () => this.reconnected(),
    });
  }

  start(): void {
    this.membership = this.hub.listen(this.spec.channel, this.name, (event) => this.fromWorld(event));
    this.app.start();
  }

  async stop(): Promise<void> {
    this.membership?.leave();
    this.membership = undefined;
    this.inbox.length = 0;
    this.outbox.length = 0;
    await this.app.stop();
  }

  status(): BridgeStatus {
    const status = this.board.get();
    if (this.droppedWhileAway === 0 || status.state === 'connected') return status;
    return { ...status, detail: `${status.detail}; ${this.droppedWhileAway} world line(s) dropped while the app was away` };
  }

  private describe(): string {
    const way = (mapping: unknown) => (mapping ? 'mapped' : 'raw');
    return `channel ${this.spec.channel} (app → world ${way(this.inMapping)}, world → app ${way(this.outMapping)})`;
  }

  private reconnected(): void {
    if (this.droppedWhileAway === 0) return;
    this.log.warn({ bridge: this.name, dropped: this.droppedWhileAway }, 'world lines were dropped while the app was away');
    this.droppedWhileAway = 0;
  }

  // App → world.

  private fromApp(text: string): void {
    if (!this.inMapping) {
      this.publish(text, text.split('|', 2).join('|'));
      return;
    }
    if (this.inbox.length >= MAX_INBOX) {
      this.throttled.warn(`${this.name}:inbox`, { bridge: this.name, waiting: this.inbox.length }, 'the app sends faster than the in mapping can map; message dropped');
      return;
    }
    this.inbox.push(text);
    if (this.inbox.length >= PAUSE_AT) this.app.pause();
    if (!this.drainingIn) void this.drainIn(this.inMapping);
  }

  /** Maps the app's messages one at a time, so lines reach the world in the order the app sent them. */
  private async drainIn(mapping: InMapping): Promise<void> {
    this.drainingIn = true;
    for (let text = this.inbox.shift(); text !== undefined; text = this.inbox.shift()) {
      if (this.inbox.length < PAUSE_AT / 2) this.app.resume();
      try {
        const { lines, keys } = await mapping.apply(InMapping.input(text));
        for (const line of lines) this.publish(line.text, line.key);
        if (keys.length > 0) await this.setKeys(keys);
      } catch (error) {
        this.throttled.warn(`${this.name}:in`, { bridge: this.name, err: (error as Error).message }, 'the in mapping failed on a message from the app; that message was dropped');
      }
    }
    this.drainingIn = false;
  }

  private publish(text: string, key: string): void {
    this.membership?.publish(text, this.spec.coalesce ? key : undefined);
  }

  private async setKeys(keys: [string, string | undefined][]): Promise<void> {
    const store = this.keyvalue();
    if (!store) return;
    for (const [key, value] of keys) {
      await (value === undefined ? store.delete(this.spec.ns, key) : store.set(this.spec.ns, key, value));
    }
  }

  // World → app.

  private fromWorld(event: ChannelMessage): void {
    if (!this.app.open) {
      this.droppedWhileAway = Math.min(this.droppedWhileAway + 1, Number.MAX_SAFE_INTEGER);
      this.throttled.warn(`${this.name}:away`, { bridge: this.name, dropped: this.droppedWhileAway }, 'the app is not connected; world line dropped');
      return;
    }
    if (!this.outMapping) {
      this.send(event.text);
      return;
    }
    if (this.outbox.length >= MAX_OUTBOX) {
      this.throttled.warn(`${this.name}:outbox`, { bridge: this.name, waiting: this.outbox.length }, 'world lines come faster than the out mapping can map; line dropped');
      return;
    }
    this.outbox.push(event);
    if (!this.drainingOut) void this.drainOut(this.outMapping);
  }

  private async drainOut(mapping: OutMapping): Promise<void> {
    this.drainingOut = true;
    for (let event = this.outbox.shift(); event; event = this.outbox.shift()) {
      try {
        const text = await mapping.apply(event.text, event.senderName, event.channel);
        if (text !== undefined) this.send(text);
      } catch (error) {
        this.throttled.warn(`${this.name}:out`, { bridge: this.name, err: (error as Error).message }, 'the out mapping failed on a world line; that line was dropped');
      }
    }
    this.drainingOut = false;
  }

  private send(text: string): void {
    if (this.app.send(text)) return;
    this.throttled.warn(`${this.name}:unsent`, { bridge: this.name }, 'the app is not connected or not reading; world line dropped');
  }
}

