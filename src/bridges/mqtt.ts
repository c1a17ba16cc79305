/**
 * `type: mqtt`: a broker (Mosquitto, Home Assistant's, zigbee2mqtt, …) to and from channels.
 *   In:  each message on a `subscribe` topic filter (wildcards + and #) is
 *        published to its channel as `mqtt|<topic>|<payload>`, coalesced per
 *        topic (a world that falls behind gets each topic's latest state).
 *        With an `in` mapping (JSONata, see mapping.ts) the message becomes
 *        the lines and/or store keys the mapping makes instead; its input is
 *        `{"topic": …, "payload": …}` (the payload parsed as JSON, else its
 *        text), as in a Node-RED msg.
 *   Out: each message in a `publish` channel is published, as it was written,
 *        to its topic (with `qos` and `retain`); with an `out` mapping, the
 *        JSON the mapping builds from the line is published instead.
 * The client reconnects by itself while the broker is away (after 1 s, then
 * doubling up to 30 s, logged) and subscribes again; the server keeps serving.
 * A broker that refuses the login is not asked again: the status says so.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership } from '../hub/hub.js';
import { escapeField } from '../protocol/line.js';
import { NAME, NAME_RULE } from '../protocol/names.js';
import type { KeyValue } from '../store/keyvalue.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { z } from 'zod';
import { bridgeName, channelName } from './bridge-spec.js';
import { IN_MAPPING, InMapping, OUT_MAPPING, OutMapping } from './mapping.js';
import { ThrottledLog } from '../log/throttled.js';
import { MappingQueue } from './mapping-queue.js';
import { readSecret, SECRET, type Secret } from './secret.js';

const topic = z.string().min(1).regex(/^[^+#]+$/, 'a topic to publish to has no wildcards');

/** A topic filter's destination: a channel name, or a channel and/or store keys made by a mapping. */
const SUBSCRIPTION = z.union([
  channelName,
  z
    .object({
      channel: channelName.optional(),
      in: IN_MAPPING.optional(),
      /** Namespace of the keys the mapping sets. */
      ns: z.string().regex(NAME, `ns must be ${NAME_RULE}`).default('default'),
    })
    .strict()
    .refine((s) => s.channel !== undefined || (s.in?.keys !== undefined && s.in.lines === undefined), {
      message: 'a subscription needs a channel, unless its in mapping only sets keys (in.keys without in.lines)',
    }),
], { error: 'each subscribe entry is a channel name, or { channel, in, ns }' });

/** A channel's destination: a topic, or a topic and the mapping that builds the payload from each line. */
const PUBLICATION = z.union([topic, z.object({ topic, out: OUT_MAPPING }).strict()], { error: 'each publish entry is a topic, or { topic, out }' });

export const MQTT_SPEC = z
  .object({
    type: z.literal('mqtt'),
    name: bridgeName.optional(),
    url: z.string().regex(/^mqtts?:\/\/.+/, 'url must look like mqtt://host:1883 (or mqtts://)'),
    username: z.string().optional(),
    /** A string, or { env: NAME } / { file: path } to keep it out of the config file. */
    password: SECRET.optional(),
    /** Topic filter (MQTT wildcards + and #) → channel, or { channel, in, ns }. */
    subscribe: z.record(z.string().min(1), SUBSCRIPTION).default({}),
    /** Channel → topic its messages are published to, or { topic, out }. */
    publish: z.record(channelName, PUBLICATION).default({}),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
    retain: z.boolean().default(false),
  })
  .strict();
export type MqttSpec = z.infer<typeof MQTT_SPEC>;

interface Subscription {
  filter: string;
  channel: string | undefined;
  ns: string;
  mapping: InMapping | undefined;
}

interface Publication {
  topic: string;
  mapping: OutMapping | undefined;
}

/** CONNACK codes that mean the login itself was refused (MQTT 3.1.1: 4, 5; MQTT 5: 134, 135): asking again cannot help. */
const LOGIN_REFUSED = new Set([4, 5, 134, 135]);

export class MqttBridge implements Bridge {
  private readonly name: string;
  private client: MqttClient | undefined;
  private memberships: Membership[] = [];
  private readonly board: StatusBoard;
  private readonly password: Secret | undefined;
  private readonly subscriptions: Subscription[];
  private readonly publications: Map<string, Publication>;
  private readonly mappings: MappingQueue;
  private readonly throttled: ThrottledLog;
  /** Set when the broker refused the login: no more tries until a restart. */
  private refused = false;
  /** Mapped messages still queued at stop() are dropped, not delivered to a closed store. */
  private stopped = false;

  /** Reads the password and compiles the mappings: a bad one stops start-up (ConfigError / MappingError naming the bridge and setting). */
  constructor(
    private readonly spec: MqttSpec,
    private readonly hub: Hub,
    private readonly keyvalue: () => KeyValue | undefined,
    private readonly log: Logger,
    /** Largest message taken from the broker (the server's maxMessageBytes): past it, dropped before mapping or relaying. */
    private readonly maxMessageBytes = Number.POSITIVE_INFINITY,
  ) {
    this.name = spec.name ?? 'mqtt';
    this.board = new StatusBoard(this.name, 'mqtt');
    const where = `bridge "${this.name}"`;
    this.password = spec.password === undefined ? undefined : readSecret(spec.password, `${where}: password`);
    this.subscriptions = Object.entries(spec.subscribe).map(([filter, to]) =>
      typeof to === 'string'
        ? { filter, channel: to, ns: 'default', mapping: undefined }
        : { filter, channel: to.channel, ns: to.ns, mapping: to.in && new InMapping(to.in, `${where}: subscribe "${filter}".in`) },
    );
    this.publications = new Map(
      Object.entries(spec.publish).map(([channel, to]) => [
        channel,
        typeof to === 'string' ? { topic: to, mapping: undefined } : { topic: to.topic, mapping: new OutMapping(to.out, `${where}: publish "${channel}".out`) },
      ]),
    );
    this.mappings = new MappingQueue(this.name, log);
    this.throttled = new ThrottledLog(log);
  }

  start(): void {
    const where = redactUrl(this.spec.url, 'the broker');
    this.refused = false;
    this.stopped = false;
    this.board.set('connecting', where);
    const client = mqtt.connect(this.spec.url, {
      username: this.spec.username,
      password: this.password?.reveal(),
      reconnectPeriod: 1_000,
      connectTimeout: 5_000,
      clientId: `resobridge-${this.name}-${Math.random().toString(16).slice(2, 8)}`,
    });
    this.client = client;
    const filters = this.subscriptions.map((subscription) => subscription.filter);
    const backoff = new Backoff();
    // mqtt.js retries at a fixed period; stretch it while the broker stays away.
    client.on('reconnect', () => {
      client.options.reconnectPeriod = backoff.next();
    });
    client.on('connect', () => {
      backoff.reset();
      client.options.reconnectPeriod = 1_000;
      this.board.set('connected', `${where}: ${this.describe()}`);
      this.log.info({ bridge: this.name, broker: where }, 'mqtt bridge connected');
      if (filters.length > 0) {
        client.subscribe(filters, { qos: this.spec.qos }, (error) => {
          if (error) this.log.error({ bridge: this.name, err: error.message }, 'mqtt bridge could not subscribe');
        });
      }
    });
    client.on('offline', () => {
      if (this.refused) return;
      this.board.set('retrying', `${where} is unreachable; reconnecting (every 1 s, then longer, up to 30 s)`);
      this.log.warn({ bridge: this.name, broker: where }, 'mqtt broker unreachable; reconnecting');
    });
    client.on('error', (error) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number' && LOGIN_REFUSED.has(code)) {
        // mqtt.js does not retry after a refused CONNACK; say so rather than "reconnecting".
        this.refused = true;
        const why = error.message.replace(/^Connection refused: /, '');
        this.board.set('failed', `${where} refused the login (${why}): check username and password, then restart the server`);
        this.log.error({ bridge: this.name, broker: where, err: error.message }, 'mqtt broker refused the login; not retrying');
        return;
      }
      this.log.warn({ bridge: this.name, err: error.message }, 'mqtt bridge error');
    });
    client.on('message', (topic, payload) => this.fromBroker(topic, payload));
    this.memberships = [...this.publications.keys()].map((channel) => this.hub.listen(channel, this.name, (event) => this.toBroker(event)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const membership of this.memberships) membership.leave();
    this.memberships = [];
    await this.client?.endAsync(true);
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private describe(): string {
    const into = this.subscriptions.map(({ filter, channel, ns, mapping }) => {
      const to = [channel, mapping ? 'mapped' : undefined, channel === undefined ? `keys in ${ns}` : undefined].filter(Boolean).join(', ');
      return `${filter} → ${to}`;
    });
    const out = [...this.publications].map(([channel, { topic, mapping }]) => `${channel} → ${topic}${mapping ? ' (mapped)' : ''}`);
    return [...into, ...out].join(', ') || 'no topics';
  }

  private fromBroker(topic: string, payload: Buffer): void {
    // A broker takes messages up to 256 MB from anyone who may publish: none of that size is mapped, queued or sent to worlds.
    if (payload.length > this.maxMessageBytes) {
      this.throttled.warn('too-big', { bridge: this.name, topic, bytes: payload.length, maxMessageBytes: this.maxMessageBytes }, 'mqtt message over maxMessageBytes; not relayed');
      return;
    }
    const text = payload.toString('utf8');
    if (Buffer.byteLength(text) !== payload.length || text.includes('\uFFFD')) {
      this.log.warn({ bridge: this.name, topic, bytes: payload.length }, 'mqtt message is not text; not relayed');
      return;
    }
    for (const subscription of this.subscriptions) {
      if (!matches(subscription.filter, topic)) continue;
      const { channel, mapping } = subscription;
      if (mapping) this.mappings.push('an mqtt message', () => this.mapIn(subscription, mapping, topic, text));
      else if (channel) this.hub.publish({ type: 'message', channel, senderName: this.name, text: `mqtt|${escapeField(topic)}|${escapeField(text)}`, coalesce: topic });
    }
  }

  /** A message through its in mapping: lines into the channel, keys into the store. */
  private async mapIn({ channel, ns }: Subscription, mapping: InMapping, topic: string, text: string): Promise<void> {
    const { lines, keys } = await mapping.apply({ topic, payload: InMapping.input(text) });
    if (this.stopped) return;
    if (channel) {
      // Coalesced per topic and line (its tag and first field, counted within the message): a world that
      // falls behind gets each one's latest, and two lines of one message never replace each other.
      const seen = new Map<string, number>();
      for (const line of lines) {
        const nth = (seen.get(line.key) ?? 0) + 1;
        seen.set(line.key, nth);
        this.hub.publish({ type: 'message', channel, senderName: this.name, text: line.text, coalesce: `${topic}|${line.key}|${nth}` });
      }
    }
    if (keys.length === 0) return;
    const store = this.keyvalue();
    if (!store) throw new Error('the store is not open yet');
    for (const [key, value] of keys) {
      if (value === undefined) await store.delete(ns, key);
      else await store.set(ns, key, value);
    }
  }

  /** A channel message → its text (or what its out mapping builds), published to the channel's topic. */
  private toBroker({ channel, senderName, text }: ChannelMessage): void {
    const publication = this.publications.get(channel);
    if (!publication || !this.client?.connected) return;
    const { topic, mapping } = publication;
    if (!mapping) {
      this.client.publish(topic, text, { qos: this.spec.qos, retain: this.spec.retain });
      return;
    }
    this.mappings.push('a world line for mqtt', async () => {
      const payload = await mapping.apply(text, senderName, channel);
      if (payload !== undefined && this.client?.connected) this.client.publish(topic, payload, { qos: this.spec.qos, retain: this.spec.retain });
    });
  }
}

/** Does an MQTT topic filter (with + and #) match the topic? */
export function matches(filter: string, topic: string): boolean {
  const wanted = filter.split('/');
  const parts = topic.split('/');
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === '#') return true;
    if (i >= parts.length || (wanted[i] !== '+' && wanted[i] !== parts[i])) return false;
  }
  return wanted.length === parts.length;
}
