/**
 * `type: mqtt`: a broker (Mosquitto, Home Assistant's, …) to and from channels.
 *   In:  each message on a `subscribe` topic filter (wildcards + and #) is
 *        published to its channel as `mqtt|<topic>|<payload>`, coalesced per
 *        topic (a world that falls behind gets each topic's latest state).
 *   Out: each message in a `publish` channel is published, as it was written,
 *        to its topic (with `qos` and `retain`).
 * The client reconnects by itself while the broker is away (after 1 s, then
 * doubling up to 30 s, logged) and subscribes again; the server keeps serving.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership } from '../hub/hub.js';
import { escapeField } from '../protocol/line.js';
import { redactUrl } from '../util/redact-url.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { z } from 'zod';
import { bridgeName, channelName } from './bridge-spec.js';

export const MQTT_SPEC = z
  .object({
    type: z.literal('mqtt'),
    name: bridgeName.optional(),
    url: z.string().regex(/^mqtts?:\/\/.+/, 'url must look like mqtt://host:1883 (or mqtts://)'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Topic filter (MQTT wildcards + and #) → channel. */
    subscribe: z.record(z.string().min(1), channelName).default({}),
    /** Channel → topic its messages are published to. */
    publish: z.record(channelName, z.string().min(1).regex(/^[^+#]+$/, 'a topic to publish to has no wildcards')).default({}),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
    retain: z.boolean().default(false),
  })
  .strict();
export type MqttSpec = z.infer<typeof MQTT_SPEC>;

export class MqttBridge implements Bridge {
  private readonly name: string;
  private client: MqttClient | undefined;
  private memberships: Membership[] = [];
  private readonly board: StatusBoard;

  constructor(
    private readonly spec: MqttSpec,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? 'mqtt';
    this.board = new StatusBoard(this.name, 'mqtt');
  }

  start(): void {
    const where = redactUrl(this.spec.url, 'the broker');
    this.board.set('retrying', `connecting to ${where}`);
    const client = mqtt.connect(this.spec.url, {
      username: this.spec.username,
      password: this.spec.password,
      reconnectPeriod: 1_000,
      connectTimeout: 5_000,
      clientId: `resobridge-${this.name}-${Math.random().toString(16).slice(2, 8)}`,
    });
    this.client = client;
    const filters = Object.keys(this.spec.subscribe);
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
      this.board.set('retrying', `${where} is unreachable; reconnecting (every 1 s, then longer, up to 30 s)`);
      this.log.warn({ bridge: this.name, broker: where }, 'mqtt broker unreachable; reconnecting');
    });
    client.on('error', (error) => this.log.warn({ bridge: this.name, err: error.message }, 'mqtt bridge error'));
    client.on('message', (topic, payload) => this.fromBroker(topic, payload));
    this.memberships = Object.keys(this.spec.publish).map((channel) => this.hub.listen(channel, this.name, (event) => this.toBroker(event)));
  }

  async stop(): Promise<void> {
    for (const membership of this.memberships) membership.leave();
    this.memberships = [];
    await this.client?.endAsync(true);
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private describe(): string {
    const into = Object.entries(this.spec.subscribe).map(([filter, channel]) => `${filter} → ${channel}`);
    const out = Object.entries(this.spec.publish).map(([channel, topic]) => `${channel} → ${topic}`);
    return [...into, ...out].join(', ') || 'no topics';
  }


  private fromBroker(topic: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    if (Buffer.byteLength(text) !== payload.length || text.includes('\uFFFD')) {
      this.log.warn({ bridge: this.name, topic, bytes: payload.length }, 'mqtt message is not text; not relayed');
      return;
    }
    for (const [filter, channel] of Object.entries(this.spec.subscribe)) {
      if (!matches(filter, topic)) continue;
      this.hub.publish({ type: 'message', channel, senderName: this.name, text: `mqtt|${escapeField(topic)}|${escapeField(text)}`, coalesce: topic });
    }
  }

  /** A channel message → its text, published to the channel's topic. */
  private toBroker({ channel, text }: ChannelMessage): void {
    const topic = this.spec.publish[channel];
    if (topic && this.client?.connected) this.client.publish(topic, text, { qos: this.spec.qos, retain: this.spec.retain });
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
