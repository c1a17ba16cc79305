/**
 * `type: home-assistant`: Home Assistant's entities in a channel, and service
 * calls from worlds, over HA's WebSocket API with a long-lived access token.
 *   Out to the world:  ha|<entity_id>|<state>              (coalesced per entity)
 *                      attr|<entity_id>|<attribute>|<value> (for `attributes`, coalesced per attribute)
 *                      error|ha|<entity_id>|<why>           (a call that failed; HA's own message when it gave one)
 *                      ok|ha|<entity_id>|<service>          (with `confirm: true`)
 *   In from the world: call|<entity_id>|<service>|<json>, on|…, off|…, toggle|…
 * A client that joins the channel is greeted with the current states.
 *
 * Why not the official home-assistant-js-websocket: it needs a global
 * WebSocket (Node 20 has none; its createSocket hook means writing the login
 * phase ourselves anyway), it reconnects on its own fixed schedule (every
 * 1–5 s, forever) with no reason to show in /healthz, it drops HA's
 * auth_invalid message, and it has no dead-connection check (a ping that is
 * never answered leaves it waiting). The protocol we need (login, ids,
 * results, one subscription, ping) is small: it is written out in
 * home-assistant-session.ts on the `ws` package, with our Backoff and status.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChannelMessage } from '../hub/broker.js';
import type { Greet, Membership } from '../hub/hub.js';
import { clip } from '../protocol/clip.js';
import { escapeField } from '../protocol/line.js';
import { NAME, NAME_RULE } from '../protocol/names.js';
import { ThrottledLog } from '../log/throttled.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName } from './bridge-spec.js';
import { CommandError, HomeAssistantSession } from './home-assistant-session.js';
import { attributeLine, attributeText, DEFAULT_HA_URL, ENTITY_PATTERN, entityMatcher, parseCommand, stateLine, websocketUrl, type ServiceCall } from './home-assistant-lines.js';
import type { BridgeContext } from './registry.js';
import { readSecret, SECRET, type Secret } from './secret.js';

export const HOME_ASSISTANT_SPEC = z
  .object({
    type: z.literal('home-assistant'),
    name: bridgeName.optional(),
    /** ws(s)://host:8123/api/websocket, or the http(s):// address the browser shows. */
    url: z
      .string()
      .regex(/^(wss?|https?):\/\/.+/, 'url is Home Assistant\'s address, e.g. http://homeassistant.local:8123 or ws://127.0.0.1:8123/api/websocket')
      .refine((url) => URL.canParse(url), 'url is not a valid address')
      .default(DEFAULT_HA_URL),
    /** A long-lived access token (HA: your profile → Security → Long-lived access tokens). */
    token: SECRET,
    /** Entity ids or patterns with * (light.*, sensor.*_temperature, *). */
    entities: z
      .array(z.string().regex(ENTITY_PATTERN, 'an entity is an id such as light.kitchen, or a pattern with * such as light.* (lower case, as Home Assistant writes them)'))
      .min(1, 'list the entities to follow, e.g. [light.kitchen, sensor.*_temperature]')
      .max(200),
    /** Attributes sent as attr|… lines (and keys), e.g. [brightness, rgb_color]. */
    attributes: z.array(z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'an attribute is a name such as brightness')).max(32).default([]),
    channel: channelName.default('ha'),
    /** Also keep each state in this key namespace (key = entity id; attributes as <entity_id>.<attribute>). */
    ns: z.string().regex(NAME, `ns must be ${NAME_RULE}`).optional(),
    /** Send ok|ha|<entity_id>|<service> after each call that succeeded. */
    confirm: z.boolean().default(false),
    /** A ping every this many seconds; one unanswered by the next means the connection is dead. */
    pingSeconds: z.number().min(1).max(300).default(30),
    /** Most entities followed; more are ignored (and the status says so). */
    maxEntities: z.number().int().min(1).max(10_000).default(1_000),
  })
  .strict();
export type HomeAssistantSpec = z.infer<typeof HOME_ASSISTANT_SPEC>;

/** A state or attribute longer than this (a forecast list, say) is cut, ending in …: worlds get lines, not documents. */
export const MAX_FIELD_CHARS = 4_096;
/** A connection that stayed up this long resets the backoff: one that drops at once is not retried every second. */
const STAYED_UP_MS = 10_000;

/** What the world was last told of an entity. */
interface Known {
  state: string;
  /** Texts of the configured attributes, in their order. */
  attributes: string[];
}

interface HaState {
  entity_id?: unknown;
  state?: unknown;
  attributes?: Record<string, unknown>;
}

export class HomeAssistantBridge implements Bridge {
  private readonly name: string;
  private readonly url: string;
  private readonly where: string;
  private readonly token: Secret;
  private readonly follows: (entityId: string) => boolean;
  private readonly board: StatusBoard;
  private readonly throttled: ThrottledLog;
  private readonly backoff = new Backoff();
  private readonly known = new Map<string, Known>();
  private session: HomeAssistantSession | undefined;
  private membership: Membership | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private version = '';
  private connectedAt = 0;
  /** Entities left out because maxEntities was reached. */
  private ignored = new Set<string>();
  /** Exactly named entities HA does not have. */
  private missing: string[] = [];

  constructor(
    private readonly spec: HomeAssistantSpec,
    private readonly context: BridgeContext,
  ) {
    this.name = spec.name ?? 'home-assistant';
    this.url = websocketUrl(spec.url);
    this.where = redactUrl(this.url, 'Home Assistant');
    this.token = readSecret(spec.token, `bridge "${this.name}": token`);
    this.follows = entityMatcher(spec.entities);
    this.board = new StatusBoard(this.name, 'home-assistant');
    this.throttled = new ThrottledLog(this.log);
  }

  private get log(): Logger {
    return this.context.log;
  }

  start(): void {
    this.stopped = false;
    this.membership = this.context.hub.listen(
      this.spec.channel,
      this.name,
      (event) => this.fromWorld(event),
      (greet) => this.greet(greet),
    );
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.membership?.leave();
    this.session?.close();
    this.session = undefined;
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private connect(): void {
    if (this.stopped) return;
    this.board.set('connecting', `connecting to ${this.where}`);
    const session: HomeAssistantSession = new HomeAssistantSession(this.url, this.token, this.spec.pingSeconds * 1000, {
      ready: (version) => void this.ready(session, version),
      event: (_id, event) => this.event(event),
      ended: (why, fatal) => this.ended(session, why, fatal),
    });
    this.session = session;
  }

  /** Logged in: follow state changes, then read every state once (changes that land in between come first and are overwritten by the snapshot, which is newer). */
  private async ready(session: HomeAssistantSession, version: string): Promise<void> {
    this.version = version;
    try {
      await session.command({ type: 'subscribe_events', event_type: 'state_changed' });
      const states = await session.command({ type: 'get_states' });
      if (session !== this.session) return;
      this.takeStates(Array.isArray(states) ? (states as HaState[]) : []);
      this.connectedAt = Date.now();
      this.board.set('connected', this.describe());
      this.log.info({ bridge: this.name, url: this.where, version, entities: this.known.size }, 'home-assistant bridge connected');
    } catch (error) {
      if (session !== this.session || !(error instanceof CommandError) || error.code === 'not_connected') return;
      // Refused (a user without the right, say): start over later, saying why.
      session.close();
      this.ended(session, `Home Assistant refused to ${error.code === 'timeout' ? 'answer' : 'subscribe or list states'}: ${error.message}`, false);
    }
  }

  private ended(session: HomeAssistantSession, why: string, fatal: boolean): void {
    if (session !== this.session || this.stopped) return;
    this.session = undefined;
    if (fatal) {
      const detail = `${why}: the token is wrong or was revoked. Make a new one in Home Assistant (your profile → Security → Long-lived access tokens → Create token), put it where token: points, and restart; not retrying (with ip_ban_enabled, Home Assistant bans an address after repeated failed logins)`;
      this.board.set('failed', detail);
      this.log.error({ bridge: this.name, url: this.where }, detail);
      return;
    }
    if (this.connectedAt && Date.now() - this.connectedAt >= STAYED_UP_MS) this.backoff.reset();
    this.connectedAt = 0;
    const delay = this.backoff.next();
    this.board.set('retrying', `${why}; reconnecting in ${delay / 1000} s`);
    this.throttled.warn('retrying', { bridge: this.name, url: this.where, why, retryInMs: delay }, 'home-assistant bridge disconnected; reconnecting');
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private describe(): string {
    const count = `${this.known.size} ${this.known.size === 1 ? 'entity' : 'entities'}`;
    const notes = [
      ...(this.missing.length > 0 ? [`not in Home Assistant: ${this.missing.slice(0, 5).join(', ')}${this.missing.length > 5 ? ', …' : ''}`] : []),
      ...(this.ignored.size > 0 ? [`${this.ignored.size} more ignored: over maxEntities ${this.spec.maxEntities}`] : []),
    ];
    return `Home Assistant ${this.version}, ${count}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  }

  /** get_states: every followed entity's state, sent where it differs from what the world was told. */
  private takeStates(states: HaState[]): void {
    const seen = new Set<string>();
    this.ignored.clear();
    for (const state of states) {
      if (typeof state?.entity_id !== 'string' || !this.follows(state.entity_id)) continue;
      seen.add(state.entity_id);
      this.take(state.entity_id, state);
    }
    // Gone while we were away.
    for (const entityId of [...this.known.keys()]) if (!seen.has(entityId)) this.take(entityId, null);
    this.missing = this.spec.entities.filter((pattern) => !pattern.includes('*') && !seen.has(pattern));
  }

  private event(event: unknown): void {
    const { event_type: type, data } = (event ?? {}) as { event_type?: unknown; data?: { entity_id?: unknown; new_state?: HaState | null } };
    if (type !== 'state_changed' || typeof data?.entity_id !== 'string' || !this.follows(data.entity_id)) return;
    this.take(data.entity_id, data.new_state ?? null);
    if (this.board.get().state === 'connected') this.board.set('connected', this.describe());
  }

  /** One entity's new state (null: it was removed): lines for what changed, and the keys. */
  private take(entityId: string, state: HaState | null): void {
    const before = this.known.get(entityId);
    if (!before && state && this.known.size >= this.spec.maxEntities) {
      if (!this.ignored.has(entityId) && this.ignored.size < this.spec.maxEntities) this.ignored.add(entityId);
      this.throttled.warn('max-entities', { bridge: this.name, maxEntities: this.spec.maxEntities }, 'home-assistant bridge follows its maximum of entities; more are ignored (raise maxEntities or narrow entities)');
      return;
    }
    const now: Known = state
      ? {
          state: clip(typeof state.state === 'string' ? state.state : attributeText(state.state), MAX_FIELD_CHARS),
          attributes: this.spec.attributes.map((name) => clip(attributeText(state.attributes?.[name]), MAX_FIELD_CHARS)),
        }
      : { state: '', attributes: this.spec.attributes.map(() => '') };
    if (state) this.known.set(entityId, now);
    else this.known.delete(entityId);
    if (!before && !state) return;
    if (!before || before.state !== now.state) this.publish(stateLine(entityId, now.state), `ha|${entityId}`);
    this.spec.attributes.forEach((attribute, i) => {
      const text = now.attributes[i] ?? '';
      if (before ? before.attributes[i] !== text : text !== '') this.publish(attributeLine(entityId, attribute, text), `attr|${entityId}|${attribute}`);
    });
    void this.mirror(entityId, before, state ? now : undefined);
  }

  private publish(text: string, coalesce: string | undefined): void {
    this.context.hub.publish({ type: 'message', channel: this.spec.channel, senderName: this.name, text, coalesce });
  }

  /** A client joined: it alone gets every followed entity's current state. */
  private greet(greet: Greet): void {
    const event = (text: string, coalesce: string): ChannelMessage => ({ type: 'message', channel: this.spec.channel, senderName: this.name, text, coalesce });
    for (const [entityId, known] of this.known) {
      greet(event(stateLine(entityId, known.state), `ha|${entityId}`));
      this.spec.attributes.forEach((attribute, i) => {
        const text = known.attributes[i] ?? '';
        if (text !== '') greet(event(attributeLine(entityId, attribute, text), `attr|${entityId}|${attribute}`));
      });
    }
  }

  /** With `ns`: the key <entity_id> holds the state, <entity_id>.<attribute> each attribute (deleted with the entity). */
  private async mirror(entityId: string, before: Known | undefined, now: Known | undefined): Promise<void> {
    const store = this.context.keyvalue();
    const ns = this.spec.ns;
    if (!store || ns === undefined) return;
    try {
      if (!now) {
        await store.delete(ns, entityId);
        for (const attribute of this.spec.attributes) await store.delete(ns, `${entityId}.${attribute}`);
        return;
      }
      if (before?.state !== now.state) await store.set(ns, entityId, now.state);
      for (const [i, attribute] of this.spec.attributes.entries()) {
        const text = now.attributes[i] ?? '';
        if (before && before.attributes[i] === text) continue;
        if (text === '') await store.delete(ns, `${entityId}.${attribute}`);
        else await store.set(ns, `${entityId}.${attribute}`, text);
      }
    } catch (error) {
      this.throttled.warn('store', { bridge: this.name, ns, err: (error as Error).message }, 'home-assistant bridge could not write a key');
    }
  }

  /** A world's line: a service call, or nothing for us. */
  private fromWorld({ text }: ChannelMessage): void {
    const command = parseCommand(text);
    if (!command) return;
    if ('problem' in command) return this.tell(command.entityId, command.problem);
    void this.call(command);
  }

  private async call(call: ServiceCall): Promise<void> {
    const { entityId, domain, service, data } = call;
    if (!this.follows(entityId)) return this.tell(entityId, `${entityId} is not among this bridge's entities (${this.spec.entities.join(', ')}); add it to entities: in the config`);
    const session = this.session;
    if (!session || this.board.get().state !== 'connected') {
      return this.tell(entityId, `Home Assistant is not connected (${this.board.get().detail}); try again when it is`);
    }
    // HA answers a call on an entity it does not have with success (and a warning in its own log): say so here.
    if (this.ignored.has(entityId)) return this.tell(entityId, `${entityId} is over this bridge's maxEntities (${this.spec.maxEntities}); raise it or narrow entities:`);
    if (!this.known.has(entityId)) return this.tell(entityId, `Home Assistant has no entity ${entityId}`);
    try {
      await session.command({ type: 'call_service', domain, service, target: { entity_id: entityId }, ...(data ? { service_data: data } : {}) });
      if (this.spec.confirm) this.publish(`ok|ha|${entityId}|${domain}.${service}`, undefined);
    } catch (error) {
      const message = error instanceof CommandError ? error.message : String(error);
      this.log.info({ bridge: this.name, entity: entityId, service: `${domain}.${service}`, code: error instanceof CommandError ? error.code : undefined, err: message }, 'home-assistant service call failed');
      this.tell(entityId, message);
    }
  }

  /** error|ha|<entity_id>|<why>, to the channel. */
  private tell(entityId: string, why: string): void {
    this.publish(`error|ha|${escapeField(entityId)}|${escapeField(why)}`, undefined);
  }
}
