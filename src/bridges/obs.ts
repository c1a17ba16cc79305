/**
 * `type: obs`: OBS Studio through obs-websocket 5 (RPC 1), for worlds.
 *
 *   - type: obs
 *     url: ws://127.0.0.1:4455          # the default
 *     password: { env: OBS_PASSWORD }   # a secret (env, file, or the text itself)
 *     channel: obs                      # the default
 *
 * Worlds in the channel send lines such as `scene|Intro` and hear OBS's news
 * (`program|Intro`, `muted|Mic|true`, …) and the reply to each request
 * (`ok|obs|…` or `error|obs|<RequestType>|<OBS's comment>`); the lines are in
 * obs-lines.ts. obs-websocket-js does the Hello/Identify handshake and its
 * authentication (base64(sha256(base64(sha256(password + salt)) + challenge))).
 * While OBS is away the bridge reconnects with backoff (1 s … 30 s). A close
 * that retrying cannot fix (4009 wrong password, 4010 RPC version, 4011
 * kicked) stops it with a status that says what to do: a wrong password is
 * tried once, not once a second.
 */
import { EventSubscription, OBSWebSocketError } from 'obs-websocket-js/json';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Hub, Membership } from '../hub/hub.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName } from './bridge-spec.js';
import { line, mutedNews, outputNews, outputState, programNews, readWorldLine, type News, type WorldAsk } from './obs-lines.js';
import { ObsSocket } from './obs-socket.js';
import { readSecret, SECRET, type Secret } from './secret.js';

export const OBS_SPEC = z
  .object({
    type: z.literal('obs'),
    name: bridgeName.optional(),
    url: z
      .string()
      .regex(/^wss?:\/\/[^\s]+$/, 'url is obs-websocket\'s address, e.g. ws://127.0.0.1:4455 (OBS → Tools → WebSocket Server Settings)')
      .default('ws://127.0.0.1:4455'),
    /** OBS → Tools → WebSocket Server Settings → Show Connect Info. */
    password: SECRET.optional(),
    channel: channelName.default('obs'),
  })
  .strict();
export type ObsSpec = z.infer<typeof OBS_SPEC>;

/** OBS answers a request within this, or the world hears an error. */
export const OBS_REQUEST_TIMEOUT_MS = 10_000;
/**
 * World requests waiting their turn (one goes to OBS at a time: obs-websocket runs requests
 * side by side and may answer, and act, out of order); past it a request is refused at once.
 */
export const OBS_MAX_WAITING = 100;
/** From opening the TCP connection to Identified: a peer that accepts and then says nothing is dropped (and retried). */
export const OBS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** WebSocket ping interval; no pong by the next one drops the connection (and it is made again). */
const KEEPALIVE_MS = 20_000;
/** A connection that stayed up this long starts the retry delays at 1 s again. */
const STAYED_UP_MS = 10_000;
/** General, scenes, inputs (mute) and outputs (stream, record); never the high-volume ones (volume meters). */
const EVENTS = EventSubscription.General | EventSubscription.Scenes | EventSubscription.Inputs | EventSubscription.Outputs;
const WHERE_TO_FIND = 'OBS → Tools → WebSocket Server Settings → Show Connect Info';

class HandshakeHung extends Error {}

interface Waiter {
  fail(error: Error): void;
}

export class ObsBridge implements Bridge {
  private readonly name: string;
  private readonly where: string;
  private readonly password: Secret | undefined;
  private readonly board: StatusBoard;
  private readonly backoff = new Backoff();
  private membership: Membership | undefined;
  private socket: ObsSocket | undefined;
  /** Identified, and GetVersion answered: requests may go. */
  private live = false;
  private version = '';
  private scene = '';
  private stopped = true;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly waiting = new Set<Waiter>();
  /** World requests, one after the other, in the order they arrived. */
  private turns: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly spec: ObsSpec,
    private readonly hub: Hub,
    private readonly maxMessageBytes: number,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? 'obs';
    this.where = redactUrl(spec.url, 'OBS');
    this.board = new StatusBoard(this.name, 'obs');
    this.password = spec.password === undefined ? undefined : readSecret(spec.password, `bridge "${this.name}": password`);
  }

  start(): void {
    this.stopped = false;
    this.membership = this.hub.listen(this.spec.channel, this.name, ({ text }) => this.fromWorld(text));
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.membership?.leave();
    this.membership = undefined;
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    await this.socket?.disconnect().catch(() => this.socket?.drop());
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  /** Connects, and again after each loss, until stopped or told not to. */
  private async run(): Promise<void> {
    this.board.set('connecting', `connecting to OBS at ${this.where}`);
    while (!this.stopped) {
      const ended = await this.session();
      if (this.stopped) return;
      if (ended.final) {
        this.board.set('failed', ended.final);
        this.log.error({ bridge: this.name, obs: this.where }, `obs bridge stopped: ${ended.final}`);
        return;
      }
      const delay = this.backoff.next();
      this.board.set('retrying', `${ended.why}; trying again in ${delay / 1000} s`);
      this.log.warn({ bridge: this.name, obs: this.where, retryInMs: delay }, `obs bridge: ${ended.why}`);
      await new Promise<void>((wake) => (this.sleeping = { timer: setTimeout(wake, delay), wake }));
      this.sleeping = undefined;
    }
  }

  /** One connection, from the handshake to its close: why it ended, and whether to give up. */
  private async session(): Promise<{ why: string; final?: string }> {
    const socket = new ObsSocket();
    this.socket = socket;
    let closed: OBSWebSocketError | undefined;
    let onClosed = () => {};
    socket.on('ConnectionClosed', (error) => {
      closed = error;
      this.live = false;
      for (const waiter of this.waiting) waiter.fail(new Error('OBS closed the connection before answering'));
      onClosed();
    });
    this.follow(socket);
    let failure: Error | undefined;
    let upSince: number | undefined;
    const keepalive = setInterval(() => socket.beat(), KEEPALIVE_MS);
    let hung = false;
    const handshake = setTimeout(() => {
      hung = true;
      socket.drop();
    }, OBS_HANDSHAKE_TIMEOUT_MS);
    try {
      await socket.connect(this.spec.url, this.password?.reveal(), { rpcVersion: 1, eventSubscriptions: EVENTS }).finally(() => clearTimeout(handshake));
      const version = (await this.request(socket, 'GetVersion')) as { obsVersion?: string; obsWebSocketVersion?: string };
      this.version = `OBS ${version.obsVersion ?? '?'}, obs-websocket ${version.obsWebSocketVersion ?? '?'}`;
      this.live = true;
      upSince = Date.now();
      await this.publishState(socket);
      this.showConnected();
      this.log.info({ bridge: this.name, obs: this.where, version: this.version }, 'obs bridge connected');
    } catch (error) {
      failure = hung ? new HandshakeHung() : (error as Error);
      if (!closed) socket.drop();
    }
    if (!closed && socket.hasSocket) await new Promise<void>((resolve) => (onClosed = resolve));
    clearInterval(keepalive);
    this.live = false;
    if (upSince !== undefined && Date.now() - upSince >= STAYED_UP_MS) this.backoff.reset();
    return this.verdict(closed, failure, upSince !== undefined);
  }

  /** Why a connection ended, in words, and whether retrying can help. */
  private verdict(closed: OBSWebSocketError | undefined, failure: Error | undefined, wasUp: boolean): { why: string; final?: string } {
    const code = closed?.code ?? 0;
    const reason = closed?.message ? `: ${closed.message}` : '';
    if (code === 4009) {
      return this.password
        ? { why: '', final: `OBS refused the password (close 4009${reason}). Set this bridge's password to the one in ${WHERE_TO_FIND} (e.g. password: { env: OBS_PASSWORD }) and restart resobridge. Not retrying, so OBS is not flooded with a wrong password.` }
        : { why: '', final: `OBS asks for a password and this bridge has none (close 4009${reason}). Add password: { env: OBS_PASSWORD } to the bridge (the password is in ${WHERE_TO_FIND}) and restart resobridge.` };
    }
    if (code === 4010) return { why: '', final: `OBS speaks another obs-websocket RPC version (close 4010${reason}); this bridge needs obs-websocket 5 (OBS 28 or later). Update OBS and restart resobridge.` };
    if (code === 4011) return { why: '', final: `OBS ended this bridge's session (close 4011${reason}: kicked from OBS's WebSocket session list). Not reconnecting; restart resobridge to connect again.` };
    if (wasUp) return { why: `OBS at ${this.where} closed the connection (code ${code}${reason})` };
    if (failure instanceof HandshakeHung) return { why: `${this.where} accepted the connection but did not complete obs-websocket's handshake within ${OBS_HANDSHAKE_TIMEOUT_MS / 1000} s: is that OBS's WebSocket port?` };
    const message = failure?.message || closed?.message || 'no reason given';
    if (/subprotocol/i.test(message)) return { why: `${this.where} answered, but not as obs-websocket 5 (${message}): check the port, and that OBS is 28 or later` };
    return { why: `OBS at ${this.where} cannot be reached (${message}): is OBS running with its WebSocket server enabled (${WHERE_TO_FIND})?` };
  }

  private showConnected(): void {
    if (this.live) this.board.set('connected', `${this.version} at ${this.where}, scene ${this.scene}`);
  }

  /** OBS's events → state lines in the channel. */
  private follow(socket: ObsSocket): void {
    socket.on('CurrentProgramSceneChanged', ({ sceneName }) => {
      this.scene = sceneName;
      this.showConnected();
      this.publish(programNews(sceneName));
    });
    socket.on('InputMuteStateChanged', ({ inputName, inputMuted }) => this.publish(mutedNews(inputName, inputMuted)));
    socket.on('StreamStateChanged', ({ outputState: state, outputActive }) => this.publish(outputNews('streaming', outputState(state), outputActive)));
    socket.on('RecordStateChanged', ({ outputState: state, outputActive }) => this.publish(outputNews('recording', outputState(state), outputActive)));
  }

  /** The program scene, stream and record state, as news lines (on connect, and when a world sends `state`). */
  private async publishState(socket: ObsSocket): Promise<void> {
    const [scene, stream, record] = (await Promise.all([
      this.request(socket, 'GetCurrentProgramScene'),
      this.request(socket, 'GetStreamStatus'),
      this.request(socket, 'GetRecordStatus'),
    ])) as [{ currentProgramSceneName: string }, { outputActive: boolean; outputReconnecting: boolean }, { outputActive: boolean; outputPaused: boolean }];
    this.scene = scene.currentProgramSceneName;
    this.publish(programNews(this.scene));
    this.publish(outputNews('streaming', stream.outputReconnecting ? 'reconnecting' : stream.outputActive ? 'started' : 'stopped', stream.outputActive));
    this.publish(outputNews('recording', record.outputPaused ? 'paused' : record.outputActive ? 'started' : 'stopped', record.outputActive));
  }

  /** A world's line → a request to OBS (in turn) → its reply (or why not) in the channel. */
  private fromWorld(text: string): void {
    const ask = readWorldLine(text);
    if (!ask) return;
    if (ask.kind === 'mistake') {
      this.log.debug({ bridge: this.name, tag: ask.tag }, 'obs bridge: a world line it cannot use');
      return this.answer(line('error', ask.id, 'obs', ask.tag, ask.why));
    }
    const requestType = ask.kind === 'request' ? ask.request.requestType : 'state';
    if (this.queued >= OBS_MAX_WAITING) return this.answer(line('error', ask.id, 'obs', requestType, `${OBS_MAX_WAITING} requests already wait for OBS; send fewer at once`));
    this.queued++;
    this.turns = this.turns.then(async () => {
      try {
        await this.perform(ask, requestType);
      } finally {
        this.queued--;
      }
    });
  }

  private async perform(ask: Exclude<WorldAsk, { kind: 'mistake' }>, requestType: string): Promise<void> {
    const socket = this.socket;
    if (this.stopped) return;
    if (!this.live || !socket) return this.answer(line('error', ask.id, 'obs', requestType, `OBS is not connected (${this.board.get().detail})`));
    try {
      if (ask.kind === 'state') return await this.publishState(socket);
      const data = await this.request(socket, requestType, ask.request.requestData);
      this.answer(this.reply(ask, data));
    } catch (error) {
      this.answer(line('error', ask.id, 'obs', requestType, whyRefused(error)));
    }
  }

  /** `ok|obs|<RequestType>` with OBS's responseData as JSON when it has any, within the line size limit. */
  private reply(ask: Extract<WorldAsk, { kind: 'request' }>, data: unknown): string {
    const { requestType } = ask.request;
    const hasData = typeof data === 'object' && data !== null && Object.keys(data).length > 0;
    const text = hasData ? line('ok', ask.id, 'obs', requestType, JSON.stringify(data)) : line('ok', ask.id, 'obs', requestType);
    const bytes = Buffer.byteLength(text);
    if (bytes <= this.maxMessageBytes) return text;
    return line('error', ask.id, 'obs', requestType, `OBS's reply is ${bytes} bytes, over the ${this.maxMessageBytes}-byte limit for a line (maxMessageBytes)`);
  }

  /** One request, answered within OBS_REQUEST_TIMEOUT_MS or failed (also when the connection closes first). */
  private request(socket: ObsSocket, requestType: string, requestData?: Record<string, unknown>): Promise<unknown> {
    const send = socket.call.bind(socket) as unknown as (type: string, data?: Record<string, unknown>) => Promise<unknown>;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { fail: (error) => settle(() => reject(error)) };
      const timer = setTimeout(() => waiter.fail(new Error(`OBS did not answer within ${OBS_REQUEST_TIMEOUT_MS / 1000} s`)), OBS_REQUEST_TIMEOUT_MS);
      const settle = (done: () => void) => {
        if (!this.waiting.delete(waiter)) return;
        clearTimeout(timer);
        done();
      };
      this.waiting.add(waiter);
      send(requestType, requestData).then(
        (data) => settle(() => resolve(data)),
        (error: unknown) => waiter.fail(error as Error),
      );
    });
  }

  /** A reply: never coalesced (each one answers someone). */
  private answer(text: string): void {
    this.hub.publish({ type: 'message', channel: this.spec.channel, senderName: this.name, text });
  }

  /** News: coalesced by its key, so a world that falls behind gets the latest state of each. */
  private publish(news: News): void {
    this.hub.publish({ type: 'message', channel: this.spec.channel, senderName: this.name, text: news.text, coalesce: news.coalesce });
  }
}

/** OBS's comment on a failed request (e.g. "No source was found by the name of `Nope`."), or what else went wrong. */
function whyRefused(error: unknown): string {
  if (error instanceof OBSWebSocketError) return error.message || `OBS refused it (code ${error.code})`;
  return (error as Error).message || String(error);
}
