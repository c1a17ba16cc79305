/**
 * `type: heart-rate`: a heart-rate service's live feed into a channel.
 *   pulsoid:  wss://dev.pulsoid.net/api/v1/data/real_time?access_token=T pushes
 *             {"measured_at":…,"data":{"heart_rate":72}}
 *   hyperate: wss://app.hyperate.io/socket/websocket?token=KEY (Phoenix): join
 *             topic hr:<id>, a heartbeat every 10 s or the server closes the
 *             socket, then {"event":"hr_update","payload":{"hr":79},…}
 * The world gets `hr|<bpm>` and, once no beat came for `lostAfter` seconds
 * (the sensor is off, the feed or the connection is gone), `hr|lost`, both
 * coalesced under one key: a world that falls behind gets the latest state.
 * A 0 (HypeRate's "no reading") is not a beat. A token the service refuses
 * (HTTP 401/403 on the upgrade) fails for good, saying so; any other
 * disconnect reconnects with backoff.
 */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { z } from 'zod';
import type { Hub } from '../hub/hub.js';
import { ThrottledLog } from '../log/throttled.js';
import { formatLine } from '../protocol/line.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import { dropSocket } from './drop-socket.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName, webSocketUrl } from './bridge-spec.js';
import { readSecret, SECRET, type Secret } from './secret.js';

export const PULSOID_URL = 'wss://dev.pulsoid.net/api/v1/data/real_time';
export const HYPERATE_URL = 'wss://app.hyperate.io/socket/websocket';
/** Longest frame accepted from the service; a beat is under 100 bytes. */
export const MAX_FRAME_BYTES = 16 * 1024;
/** WebSocket pings to the service this often; no pong by the next one means a dead connection. */
const PING_MS = 30_000;
const MAX_BPM = 300;

export const HEART_RATE_SPEC = z
  .object({
    type: z.literal('heart-rate'),
    name: bridgeName.optional(),
    service: z.enum(['pulsoid', 'hyperate'], { message: 'service is pulsoid or hyperate' }),
    /** Pulsoid: an access token with data:heart_rate:read. HypeRate: the API (websocket) key. */
    token: SECRET,
    /** HypeRate: the user's device ID (shown in the HypeRate app / overlay URL). */
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'id is the HypeRate device ID: letters, digits, - or _').optional(),
    worldChannel: channelName.default('heart-rate'),
    /** Seconds without a beat before the world gets `hr|lost`. */
    lostAfter: z.number().min(0.1).max(3600).default(10),
    /** HypeRate: seconds between Phoenix heartbeats (the server closes the socket after about 10 s without one). */
    heartbeatSeconds: z.number().min(0.05).max(30).default(10),
    /** The service's WebSocket URL, without the token (for a proxy or a test double). */
    url: webSocketUrl(PULSOID_URL).optional(),
  })
  .strict()
  .refine((spec) => (spec.service === 'hyperate') === (spec.id !== undefined), {
    message: 'id is the HypeRate device ID: required with service: hyperate, not used with pulsoid',
  });
export type HeartRateSpec = z.infer<typeof HEART_RATE_SPEC>;

const HELP = {
  pulsoid: 'Make a new token at https://pulsoid.net/ui/keys (scope data:heart_rate:read), put it where token points, and restart',
  hyperate: 'Check the API key from https://www.hyperate.io/api (it goes in token; the device ID goes in id), and restart',
};

export class HeartRateBridge implements Bridge {
  private readonly name: string;
  private readonly token: Secret;
  private readonly board: StatusBoard;
  private readonly backoff = new Backoff();
  private readonly throttled: ThrottledLog;
  private readonly baseUrl: string;
  private socket: WebSocket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private lost = false;
  private stopped = true;
  private failed = false;
  private ref = 0;

  constructor(
    private readonly spec: HeartRateSpec,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? spec.service;
    this.board = new StatusBoard(this.name, 'heart-rate');
    this.throttled = new ThrottledLog(log);
    this.token = readSecret(spec.token, `bridge "${this.name}": token`);
    this.baseUrl = spec.url ?? (spec.service === 'pulsoid' ? PULSOID_URL : HYPERATE_URL);
  }

  start(): void {
    this.stopped = false;
    this.failed = false;
    this.lost = false;
    this.armLost();
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.lostTimer);
    this.stopTimers();
    const socket = this.socket;
    this.socket = undefined;
    await dropSocket(socket);
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  /** The URL as it may be shown: the configured one, which holds no token (that is added only to connect). */
  private get where(): string {
    return redactUrl(this.baseUrl, this.spec.service);
  }

  private describe(): string {
    const what = this.spec.service === 'hyperate' ? `hyperate device ${this.spec.id ?? ''}` : 'pulsoid';
    return `${what} at ${this.where} → channel ${this.spec.worldChannel}`;
  }

  private connectUrl(): string {
    const url = new URL(this.baseUrl);
    url.searchParams.set(this.spec.service === 'pulsoid' ? 'access_token' : 'token', this.token.reveal());
    return url.toString();
  }

  private connect(): void {
    if (this.stopped || this.failed) return;
    this.board.set('connecting', `connecting to ${this.where}`);
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.connectUrl(), { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 15_000 });
    } catch {
      // ws's message would repeat the URL, token and all.
      return this.fail(`cannot connect to ${this.where}: the URL is not usable; check url`);
    }
    this.socket = socket;
    let refusedWith: number | undefined;
    socket.on('open', () => {
      this.startPinging(socket);
      if (this.spec.service === 'pulsoid') {
        this.board.set('connected', this.describe());
        return;
      }
      this.phoenix(`hr:${this.spec.id ?? ''}`, 'phx_join');
      this.heartbeat = setInterval(() => this.phoenix('phoenix', 'heartbeat'), this.spec.heartbeatSeconds * 1000);
    });
    socket.on('message', (data, isBinary) => {
      if (socket !== this.socket) return;
      if (isBinary) return this.throttled.warn('heart-rate-binary', { bridge: this.name }, 'the heart-rate service sent a binary frame; ignored');
      this.receive(socket, String(data));
    });
    socket.on('error', (error) => {
      // ws words a refused upgrade "Unexpected server response: 401"; the URL (and its token) is not in it.
      const status = /Unexpected server response: (\d+)/.exec(error.message);
      if (status) refusedWith = Number(status[1]);
      else this.throttled.warn('heart-rate-error', { bridge: this.name, err: error.message }, 'heart-rate connection error');
    });
    socket.on('close', (code) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.stopTimers();
      if (this.stopped || this.failed) return;
      if (refusedWith === 401 || refusedWith === 403) return this.fail(`${this.spec.service} refused the token (HTTP ${refusedWith}). ${HELP[this.spec.service]}.`);
      const why = refusedWith ? `${this.where} answered HTTP ${refusedWith}` : `the connection to ${this.where} closed (${code})`;
      const delay = this.backoff.next();
      this.board.set('retrying', `${why}; reconnecting in ${delay / 1000} s`);
      this.log.warn({ bridge: this.name, retryInMs: delay }, `heart rate: ${why}; reconnecting`);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private fail(detail: string): void {
    this.failed = true;
    this.board.set('failed', detail);
    this.log.error({ bridge: this.name }, `heart rate: ${detail}`);
  }

  private phoenix(topic: string, event: string): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ topic, event, payload: {}, ref: String(++this.ref) }));
  }

  private startPinging(socket: WebSocket): void {
    let answered = true;
    socket.on('pong', () => (answered = true));
    this.pinger = setInterval(() => {
      if (!answered) {
        this.log.warn({ bridge: this.name }, `heart rate: ${this.where} stopped answering pings; reconnecting`);
        socket.terminate();
        return;
      }
      answered = false;
      socket.ping();
    }, PING_MS);
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.pinger);
  }

  private receive(socket: WebSocket, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.throttled.warn('heart-rate-json', { bridge: this.name }, 'the heart-rate service sent something that is not JSON; ignored');
    }
    if (this.spec.service === 'pulsoid') {
      this.backoff.reset();
      return this.beat((message as { data?: { heart_rate?: unknown } } | null)?.data?.heart_rate);
    }
    const { event, payload, topic } = (message ?? {}) as { event?: unknown; payload?: Record<string, unknown>; topic?: unknown };
    if (event === 'hr_update' && topic === `hr:${this.spec.id ?? ''}`) return this.beat(payload?.hr);
    if (event === 'phx_reply' && topic === `hr:${this.spec.id ?? ''}`) {
      if (payload?.status === 'ok') {
        this.backoff.reset();
        this.board.set('connected', this.describe());
        return;
      }
      // A refused join does not get better by asking again at once: backoff applies.
      this.log.warn({ bridge: this.name, response: JSON.stringify(payload?.response ?? null).slice(0, 200) }, 'hyperate refused to join the device channel; reconnecting');
      socket.close();
    }
  }

  private beat(value: unknown): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_BPM) {
      return this.throttled.warn('heart-rate-value', { bridge: this.name }, `the heart-rate service sent a reading that is not a number from 0 to ${MAX_BPM}; ignored`);
    }
    const bpm = Math.round(value);
    if (bpm === 0) return; // no reading (HypeRate sends 0 while the sensor is off): lost comes on its own
    this.lost = false;
    this.armLost();
    this.publish(String(bpm));
  }

  private armLost(): void {
    clearTimeout(this.lostTimer);
    this.lostTimer = setTimeout(() => {
      if (this.lost || this.stopped) return;
      this.lost = true;
      this.publish('lost');
    }, this.spec.lostAfter * 1000);
  }

  private publish(value: string): void {
    this.hub.publish({ type: 'message', channel: this.spec.worldChannel, senderName: this.name, text: formatLine('hr', value), coalesce: 'hr' });
  }
}
