/**
 * `type: twitch`: a Twitch channel's chat in a resobridge channel (IRC over
 * WebSocket, dev.twitch.tv/docs/chat/irc).
 *   In:  chat `chat|<name>|<text>` (with `details: true`:
 *        `chat|<name>|<color>|<badges>|<text>`), cheers `bits|<name>|<amount>|<text>`,
 *        `sub|…`/`resub|…`, `subgift|…`, `raid|…`, other USERNOTICEs as
 *        `event|<msg-id>|<name>|<system message>|<text>`. Never coalesced: chat is paced like
 *        any channel traffic, and a world that falls behind gets `dropped|<n>`.
 *   Out: `say|<text>` in the world channel is sent to the Twitch chat, when a
 *        login and token are configured, within Twitch's send limit (queued,
 *        then refused with `error|twitch|…` to the sender: never over the limit,
 *        which would lock the account out for 30 minutes).
 * Anonymous (read-only) logins are `justinfan<digits>`. A login Twitch refuses
 * fails for good (the token is wrong: retrying cannot fix it); any other
 * disconnect reconnects with backoff; Twitch's RECONNECT reconnects at once (a
 * second one within 10 s waits its turn in the backoff, so a peer cannot make a storm).
 */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { z } from 'zod';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership, Recipient } from '../hub/hub.js';
import { ThrottledLog } from '../log/throttled.js';
import { formatLine, unescapeField } from '../protocol/line.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import { dropSocket } from './drop-socket.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName, webSocketUrl } from './bridge-spec.js';
import { nickOf, parseIrcLine, type IrcMessage } from './irc.js';
import { readSecret, SECRET, type Secret } from './secret.js';
import { SendLimiter } from './send-limit.js';

export const TWITCH_URL = 'wss://irc-ws.chat.twitch.tv:443';
/** Twitch counts sends per 30 s; a second more on our side absorbs jitter between our clock and theirs. */
export const SEND_WINDOW_MS = 31_000;
/** Twitch's longest chat message. */
export const MAX_SAY_CHARS = 500;
/** Longest WebSocket frame accepted from Twitch (ws closes the socket past it, and the bridge reconnects). */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Longest IRC line handled: Twitch allows 8191 bytes of tags and 512 of message; longer ones are skipped and logged. */
export const MAX_LINE_CHARS = 16 * 1024;
/** No 001 welcome this long after the socket opened: try again. */
const WELCOME_TIMEOUT_MS = 15_000;
/** Twitch PINGs about every 5 minutes; silence for longer than this means a dead connection. */
const IDLE_TIMEOUT_MS = 7 * 60_000;
/** A connection that stayed joined this long starts the retry delays at 1 s again; RECONNECTs closer together than this wait their turn in the backoff. */
const STAYED_UP_MS = 10_000;
const LOGIN_FAILED = /login authentication failed|improperly formatted auth|login unsuccessful/i;
const TOKEN_HELP =
  'Get a user access token with the chat:read and chat:edit scopes for that login (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/, or `twitch token -u -s "chat:read chat:edit"` with the Twitch CLI), put it where token points, and restart';

const twitchLogin = z.string().regex(/^#?[A-Za-z0-9_]{1,25}$/, 'a Twitch login is 1 to 25 letters, digits or underscores, e.g. "mychannel"');

export const TWITCH_SPEC = z
  .object({
    type: z.literal('twitch'),
    name: bridgeName.optional(),
    /** The Twitch channel (its broadcaster's login), with or without `#`. */
    channel: twitchLogin,
    /** The resobridge channel chat goes to and `say|…` comes from. */
    worldChannel: channelName.default('twitch'),
    /** The account that sends `say|…` (needs token). Without both, the bridge reads anonymously. */
    login: twitchLogin.optional(),
    token: SECRET.optional(),
    url: webSocketUrl(TWITCH_URL).default(TWITCH_URL),
    /** Chat as `chat|<name>|<color>|<badges>|<text>` instead of `chat|<name>|<text>`. */
    details: z.boolean().default(false),
    /** Messages per 30 s: 20 for a normal account, 100 where it is a moderator or the broadcaster. */
    sendLimit: z.number().int().min(1, 'sendLimit is at least 1').max(100, 'Twitch allows at most 100 messages per 30 s (as a moderator)').default(20),
    /** `say|…` messages that may wait for room in the limit; past it they are refused. */
    sendQueue: z.number().int().min(0).max(100).default(10),
  })
  .strict()
  .refine((spec) => (spec.token === undefined) === (spec.login === undefined), {
    message: 'login and token go together: both to send chat (the token must belong to login), neither to read anonymously',
  });
export type TwitchSpec = z.infer<typeof TWITCH_SPEC>;

interface Say {
  text: string;
  from: string | Recipient;
}

export class TwitchBridge implements Bridge {
  private readonly name: string;
  private readonly channel: string;
  private readonly nick: string;
  private readonly token: Secret | undefined;
  private readonly board: StatusBoard;
  private readonly backoff = new Backoff();
  private readonly throttled: ThrottledLog;
  private readonly limiter: SendLimiter<Say>;
  private socket: WebSocket | undefined;
  private membership: Membership | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private joined = false;
  /** When the channel was last joined (0: not joined on this connection). */
  private joinedAt = 0;
  /** When a RECONNECT was last obeyed at once. */
  private reconnectedAt = 0;
  private stopped = true;
  private failed = false;

  constructor(
    private readonly spec: TwitchSpec,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? `twitch-${spec.channel.replace(/^#/, '').toLowerCase()}`;
    this.channel = `#${spec.channel.replace(/^#/, '').toLowerCase()}`;
    this.board = new StatusBoard(this.name, 'twitch');
    this.throttled = new ThrottledLog(log);
    this.token = spec.token === undefined ? undefined : readSecret(spec.token, `bridge "${this.name}": token`);
    this.nick = spec.login ? spec.login.replace(/^#/, '').toLowerCase() : `justinfan${10_000 + Math.floor(Math.random() * 90_000)}`;
    this.limiter = new SendLimiter<Say>(spec.sendLimit, SEND_WINDOW_MS, spec.sendQueue, (say) => this.sendChat(say));
  }

  start(): void {
    this.stopped = false;
    this.failed = false;
    this.membership = this.hub.listen(this.spec.worldChannel, this.name, (event, sender) => this.fromWorld(event, sender));
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.membership?.leave();
    this.membership = undefined;
    this.limiter.clear();
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    const socket = this.socket;
    this.socket = undefined;
    await dropSocket(socket);
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private get where(): string {
    return redactUrl(this.spec.url, 'Twitch');
  }

  private describe(): string {
    const as = this.token ? `as ${this.nick} (say|… sends, ${this.spec.sendLimit} per 30 s)` : `read-only as ${this.nick}`;
    return `${this.channel} on ${this.where} → channel ${this.spec.worldChannel}, ${as}`;
  }

  private connect(): void {
    if (this.stopped || this.failed) return;
    this.joined = false;
    this.joinedAt = 0;
    this.board.set('connecting', `connecting to ${this.where}`);
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.spec.url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: WELCOME_TIMEOUT_MS });
    } catch (error) {
      this.failed = true;
      this.board.set('failed', `cannot connect to ${this.where}: ${(error as Error).message}; check url`);
      return;
    }
    this.socket = socket;
    socket.on('open', () => {
      this.write('CAP REQ :twitch.tv/tags twitch.tv/commands');
      if (this.token) {
        const token = this.token.reveal();
        this.write(`PASS ${token.startsWith('oauth:') ? token : `oauth:${token}`}`);
      }
      this.write(`NICK ${this.nick}`);
      this.timer = setTimeout(() => this.drop(socket, `no welcome from ${this.where} within ${WELCOME_TIMEOUT_MS / 1000} s`), WELCOME_TIMEOUT_MS);
      this.alive(socket);
    });
    socket.on('message', (data, isBinary) => {
      if (socket !== this.socket) return;
      this.alive(socket);
      if (isBinary) return this.throttled.warn('twitch-binary', { bridge: this.name }, 'twitch sent a binary frame; ignored');
      for (const line of String(data).split(/\r?\n/)) {
        if (line.length === 0) continue;
        if (line.length > MAX_LINE_CHARS) {
          this.throttled.warn('twitch-long-line', { bridge: this.name, chars: line.length }, `twitch sent a line over ${MAX_LINE_CHARS} characters; skipped`);
          continue;
        }
        const message = parseIrcLine(line);
        if (message) this.handle(socket, message);
      }
    });
    socket.on('error', (error) => this.throttled.warn('twitch-error', { bridge: this.name, err: error.message }, 'twitch connection error'));
    socket.on('close', (code) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      clearTimeout(this.timer);
      clearTimeout(this.watchdog);
      this.lostQueue();
      if (this.stopped || this.failed) return;
      if (this.stayedUp()) this.backoff.reset();
      this.retry(`the connection to ${this.where} closed (${code})`);
    });
  }

  /** The channel has been joined on this connection for STAYED_UP_MS or more. */
  private stayedUp(): boolean {
    return this.joinedAt > 0 && Date.now() - this.joinedAt >= STAYED_UP_MS;
  }

  private retry(why: string): void {
    const delay = this.backoff.next();
    this.board.set('retrying', `${why}; reconnecting in ${delay / 1000} s`);
    this.log.warn({ bridge: this.name, retryInMs: delay }, `twitch: ${why}; reconnecting`);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Closes a connection that went wrong; its close event schedules the retry. */
  private drop(socket: WebSocket, why: string): void {
    if (socket !== this.socket) return;
    this.log.warn({ bridge: this.name }, `twitch: ${why}`);
    socket.terminate();
  }

  private alive(socket: WebSocket): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.drop(socket, `nothing from ${this.where} for ${IDLE_TIMEOUT_MS / 60_000} minutes`), IDLE_TIMEOUT_MS);
  }

  private write(line: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(`${line}\r\n`);
  }

  private handle(socket: WebSocket, message: IrcMessage): void {
    const { command, params } = message;
    switch (command) {
      case 'PING':
        this.write(`PONG :${params[0] ?? 'tmi.twitch.tv'}`);
        return;
      case '001':
        clearTimeout(this.timer);
        this.write(`JOIN ${this.channel}`);
        return;
      case 'JOIN':
        if (nickOf(message.prefix).toLowerCase() === this.nick && params[0]?.toLowerCase() === this.channel) {
          this.joined = true;
          this.joinedAt = Date.now();
          this.board.set('connected', this.describe());
          this.log.info({ bridge: this.name, channel: this.channel }, 'twitch bridge joined');
        }
        return;
      case 'RECONNECT': {
        // Twitch is about to restart this server: go at once, no backoff; but a peer that says it
        // again soon after the last one (broken, or hostile) is retried with backoff, not in a storm.
        const atOnce = Date.now() - this.reconnectedAt >= STAYED_UP_MS;
        this.log.info({ bridge: this.name, atOnce }, 'twitch asked to reconnect');
        this.socket = undefined;
        clearTimeout(this.timer);
        clearTimeout(this.watchdog);
        this.lostQueue();
        socket.terminate();
        if (atOnce) {
          this.reconnectedAt = Date.now();
          this.connect();
        } else this.retry(`${this.where} asked to reconnect again within ${STAYED_UP_MS / 1000} s of the last time`);
        return;
      }
      case 'NOTICE':
        if (params[0] === '*' && LOGIN_FAILED.test(params[1] ?? '')) return this.fail(socket, params[1] ?? '');
        this.log.info({ bridge: this.name, notice: message.tags.get('msg-id') ?? '', text: params[1] ?? '' }, 'twitch notice');
        return;
      case 'PRIVMSG':
        return this.chat(message);
      case 'USERNOTICE':
        return this.userNotice(message);
      default:
        return;
    }
  }

  private fail(socket: WebSocket, notice: string): void {
    this.failed = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    const detail = `Twitch refused the login of ${this.nick} ("${notice}"): the token is wrong, expired or not ${this.nick}'s. ${TOKEN_HELP}.`;
    this.board.set('failed', detail);
    this.log.error({ bridge: this.name }, `twitch: ${detail}`);
    socket.terminate();
  }

  private publish(tag: string, ...fields: string[]): void {
    this.hub.publish({ type: 'message', channel: this.spec.worldChannel, senderName: this.name, text: formatLine(tag, ...fields) });
  }

  private chat({ tags, prefix, params }: IrcMessage): void {
    if (params[0]?.toLowerCase() !== this.channel) return;
    const name = displayName(tags, prefix);
    const text = chatText(params[1] ?? '');
    const bits = tags.get('bits');
    if (bits && /^\d+$/.test(bits)) return this.publish('bits', name, bits, text);
    if (this.spec.details) return this.publish('chat', name, colorLiteral(tags.get('color') ?? ''), tags.get('badges') ?? '', text);
    this.publish('chat', name, text);
  }

  private userNotice({ tags, prefix, params }: IrcMessage): void {
    if (params[0]?.toLowerCase() !== this.channel) return;
    const kind = tags.get('msg-id') ?? '';
    const name = displayName(tags, prefix);
    const text = chatText(params[1] ?? '');
    const plan = subPlan(tags.get('msg-param-sub-plan') ?? '');
    switch (kind) {
      case 'sub':
      case 'resub':
        return this.publish(kind, name, plan, tags.get('msg-param-cumulative-months') || (kind === 'sub' ? '1' : '0'), text);
      case 'subgift': {
        const to = tags.get('msg-param-recipient-display-name') || tags.get('msg-param-recipient-user-name') || tags.get('msg-param-recipient-name') || '';
        return this.publish('subgift', name, plan, to);
      }
      case 'raid':
        return this.publish('raid', tags.get('msg-param-displayName') || name, tags.get('msg-param-viewerCount') || '0');
      default:
        return this.publish('event', kind, name, tags.get('system-msg') ?? '', text);
    }
  }

  /** A world's `say|<text>` (percent-escaped or not), or anything else in the channel (ignored). */
  private fromWorld({ text, senderName }: ChannelMessage, sender: Recipient | undefined): void {
    if (!text.startsWith('say|')) return;
    const asker = sender ?? senderName;
    if (!this.token) return this.tell(asker, 'this bridge reads chat only; to send, give it a login and a token (docs/bridges.md, twitch)');
    if (!this.joined) return this.tell(asker, 'not connected to Twitch right now; not sent (try again when it is back)');
    // CR and LF would end the IRC line and start another command: a line break is a space in chat anyway.
    const say = unescapeField(text.slice(4)).replace(/[\r\n]+/g, ' ').trim();
    if (!say) return this.tell(asker, 'say needs text: say|<text>');
    if (say.length > MAX_SAY_CHARS) return this.tell(asker, `Twitch takes at most ${MAX_SAY_CHARS} characters per message (this one has ${say.length}); not sent`);
    if (this.limiter.offer({ text: say, from: asker }) === 'refused') {
      this.tell(asker, `too many messages: Twitch allows ${this.spec.sendLimit} per 30 s and ${this.limiter.queued} are already waiting; not sent`);
    }
  }

  private sendChat({ text, from }: Say): void {
    if (!this.joined || this.socket?.readyState !== WebSocket.OPEN) return this.tell(from, 'the connection to Twitch dropped; not sent');
    this.write(`PRIVMSG ${this.channel} :${text}`);
  }

  /** Messages still waiting when the connection went: their senders hear it. */
  private lostQueue(): void {
    this.joined = false;
    for (const say of this.limiter.clear()) this.tell(say.from, 'the connection to Twitch dropped; not sent');
  }

  private tell(to: string | Recipient, why: string): void {
    this.hub.whisper({ type: 'message', channel: this.spec.worldChannel, senderName: this.name, text: formatLine('error', 'twitch', why) }, to);
  }
}

function displayName(tags: Map<string, string>, prefix: string): string {
  return tags.get('display-name') || tags.get('login') || nickOf(prefix);
}

/** `/me waves` arrives as CTCP ACTION; a world gets the words. Other control characters go. */
function chatText(text: string): string {
  // eslint-disable-next-line no-control-regex -- CTCP's marker is the control character \x01
  const action = /^\x01ACTION (.*?)\x01?$/s.exec(text);
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return (action ? (action[1] ?? '') : text).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
}

/** `#1E90FF` → `[0.118;0.565;1;1]` (what a Parse colorX node reads); '' when the user never picked a color. */
export function colorLiteral(hex: string): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return '';
  const part = (h: string | undefined) => String(Math.round((parseInt(h ?? '0', 16) / 255) * 1000) / 1000);
  return `[${part(match[1])};${part(match[2])};${part(match[3])};1]`;
}

/** Twitch's plan names → `prime`, `1`, `2`, `3`. */
function subPlan(plan: string): string {
  if (plan.toLowerCase() === 'prime') return 'prime';
  if (/^[123]000$/.test(plan)) return plan[0] as string;
  return plan;
}
