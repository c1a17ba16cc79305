/**
 * NATS as the cluster's engine: core subjects carry events (one per channel,
 * `<prefix>.c.<channel>.m` for messages and `.p` for presence), JetStream
 * keeps history, and two KV buckets keep each node's member lists and which
 * nodes are alive (entries expire after nodeTtlMs).
 *
 * Why JetStream for history: a stream that captures the message subjects
 * with MaxMsgsPerSubject = maxHistory *is* a bounded per-channel history, kept
 * by the server as messages pass: nodes publish once on the core subject and
 * never write history themselves. A replay reads the channel's subject with an
 * ordered consumer up to the last sequence seen when it started (a snapshot).
 */
import {
  connect,
  DiscardPolicy,
  Events,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type Msg,
  type NatsError,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { redactUrl } from '../util/redact-url.js';
import { within } from '../util/timeout.js';
import type { Transport, TransportOptions } from './cluster-transport.js';

/**
 * Longest wait between reconnection attempts. Short: a refused attempt costs nothing, and with 5 s a node
 * resumed delivery up to 5 s after the broker was back (the nats client's default is 2 s, plus jitter).
 */
const MAX_RETRY_MS = 1_000;
/**
 * A broker that stops answering (frozen, or cut off without a reset) is noticed after this many unanswered
 * pings, one every PING_INTERVAL_MS: about 30 s, where the client's default (2 min, 2 pings) took 4 minutes.
 */
const PING_INTERVAL_MS = 10_000;
const MAX_PINGS_OUT = 3;
/** NATS's own default largest message (max_payload); a stream's max_msg_size above it would not matter. */
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** A history replay that takes longer than this is cut short (the broker is in trouble). */
const HISTORY_TIMEOUT_MS = 5_000;

interface Engine {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  presence: KV;
  nodes: KV;
}

export class NatsTransport implements Transport {
  readonly description: string;
  readonly hint =
    'Check that nats-server runs with JetStream (-js) and the URL is right, e.g. --broker nats://127.0.0.1:4222; or leave --broker out to run a single node.';
  onPayload: (payload: string) => void = () => {};
  onState: (up: boolean, error?: unknown) => void = () => {};
  private engine: Engine | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private up = false;
  /** Presence writes and the sends behind them go in order: store, then publish. */
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private attempts = 0;
  /** KV revision of this node's liveness entry, as last written. */
  private revision: number | undefined;

  constructor(
    private readonly url: string,
    private readonly options: TransportOptions,
  ) {
    this.description = `nats at ${redactUrl(url, 'nats')}`;
  }

  /** A subscription error (e.g. permissions) comes with an empty message: nothing to read (NATS reports it on the status stream too). */
  private received(error: NatsError | null, msg: Msg): void {
    if (!error) this.onPayload(msg.string());
  }

  private get stream(): string {
    return `${this.options.prefix}_history`;
  }

  async connect(): Promise<void> {
    const nc = await connect({
      servers: this.url,
      name: `resobridge ${this.options.node}`,
      noEcho: true,
      timeout: 5_000,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => Math.min(++this.attempts * 200, MAX_RETRY_MS),
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
    });
    try {
      this.engine = await this.prepare(nc);
    } catch (error) {
      await nc.close();
      throw error;
    }
    nc.subscribe(`${this.options.prefix}.cluster`, { callback: (error, msg) => this.received(error, msg) });
    this.up = true;
    void this.watchStatus(nc);
  }

  /** JetStream's stream and buckets, made if missing (again after a restart that lost them). */
  private async prepare(nc: NatsConnection): Promise<Engine> {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    if (this.options.maxHistory > 0) {
      const config = {
        name: this.stream,
        subjects: [`${this.options.prefix}.c.*.m`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_msgs_per_subject: this.options.maxHistory,
        // The stream's whole size: past it the oldest messages (of any channel) go. JetStream has no per-subject byte cap,
        // so a channel holds at most maxHistory messages of up to max_msg_size each (docs/scaling.md).
        max_bytes: this.options.historyBytes.totalBytes,
        max_msg_size: Math.min(this.options.historyBytes.channelBytes, MAX_PAYLOAD_BYTES),
      };
      await jsm.streams.add(config).catch(() => jsm.streams.update(this.stream, config));
    }
    const presence = await js.views.kv(`${this.options.prefix}_presence`, { history: 1 });
    const nodes = await js.views.kv(`${this.options.prefix}_nodes`, { history: 1, ttl: this.options.nodeTtlMs });
    return { nc, js, jsm, presence, nodes };
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) this.state(false, new Error(`disconnected from ${String(status.data)}`));
      if (status.type === Events.Reconnect) {
        this.attempts = 0;
        this.engine = await this.prepare(nc).catch(() => this.engine);
        this.state(true);
      }
    }
  }

  async subscribe(channel: string): Promise<void> {
    const { nc } = this.ready();
    if (this.subscriptions.has(channel)) return;
    const subscription = nc.subscribe(this.subject(channel, '*'), { callback: (error, msg) => this.received(error, msg) });
    this.subscriptions.set(channel, subscription);
    // Subscribed once the server has it (a round trip), not when the request is buffered.
    await nc.flush();
  }

  async unsubscribe(channel: string): Promise<void> {
    this.subscriptions.get(channel)?.unsubscribe();
    this.subscriptions.delete(channel);
  }

  sendMessage(channel: string, payload: string): void {
    if (!this.up) return;
    const send = () => this.engine?.nc.publish(this.subject(channel, 'm'), payload);
    if (this.queued === 0) send();
    else void this.inOrder(send);
  }

  sendPresence(channel: string, payload: string | undefined, entry: string): void {
    void this.inOrder(async () => {
      await this.engine?.presence.put(this.presenceKey(channel, this.options.node), entry);
      if (payload !== undefined) this.engine?.nc.publish(this.subject(channel, 'p'), payload);
    });
  }

  sendCluster(payload: string): void {
    if (this.up) this.engine?.nc.publish(`${this.options.prefix}.cluster`, payload);
  }

  async heartbeat(payload: string): Promise<boolean> {
    let continuous = true;
    // In order with the member lists: those stored again after a lapse go before the heartbeat that tells others to read them.
    await this.inOrder(async () => {
      continuous = await this.live();
      this.engine?.nc.publish(`${this.options.prefix}.cluster`, payload);
    });
    return continuous;
  }

  refresh(): void {
    void this.inOrder(() => this.live());
  }

  /** Writes this node's liveness entry; false if the one written last had gone (expired, or lost by the broker). */
  private async live(): Promise<boolean> {
    const { nodes } = this.ready();
    if (this.revision !== undefined) {
      try {
        this.revision = await nodes.update(this.options.node, '1', this.revision);
        return true;
      } catch (error) {
        if (!/wrong last sequence/i.test((error as Error).message)) throw error;
      }
    }
    this.revision = await nodes.put(this.options.node, '1');
    return false;
  }

  async history(channel: string, limit: number): Promise<string[]> {
    if (this.options.maxHistory === 0) return [];
    const { js, jsm } = this.ready();
    const subject = this.subject(channel, 'm');
    const last = await jsm.streams.getMessage(this.stream, { last_by_subj: subject }).catch((error: unknown) => {
      if ((error as { code?: string }).code === '404') return undefined;
      throw error;
    });
    if (!last) return [];
    const consumer = await js.consumers.get(this.stream, { filterSubjects: subject });
    const messages = await consumer.consume();
    const read = async () => {
      const kept: string[] = [];
      for await (const msg of messages) {
        kept.push(msg.string());
        if (kept.length > limit) kept.shift();
        if (msg.seq >= last.seq || msg.info.pending === 0) break;
      }
      return kept;
    };
    try {
      return await within(read(), HISTORY_TIMEOUT_MS, []);
    } finally {
      messages.stop();
    }
  }

  async presence(channel: string): Promise<Map<string, string>> {
    const { presence, nodes } = this.ready();
    const found = new Map<string, string>();
    const prefix = `${token(channel)}.`;
    // Listed in full first: the lister stops once it has read the last key, and what was not taken by then is lost.
    const keys: string[] = [];
    for await (const key of await presence.keys(`${prefix}*`)) keys.push(key);
    await Promise.all(
      keys.map(async (key) => {
        const node = key.slice(prefix.length);
        // The list first, then the liveness: a node stores its liveness before its lists.
        const entry = await presence.get(key);
        if (entry?.operation !== 'PUT') return;
        if ((await nodes.get(node))?.operation === 'PUT') found.set(node, entry.string());
        // A node that died while nobody watched this channel: cleared by whoever reads it first.
        else await presence.delete(key, { previousSeq: entry.revision }).catch(() => {});
      }),
    );
    return found;
  }

  async forget(node: string, channel: string): Promise<void> {
    const { presence, nodes } = this.ready();
    const key = this.presenceKey(channel, node);
    const entry = await presence.get(key);
    if (entry?.operation !== 'PUT' || (await nodes.get(node))?.operation === 'PUT') return;
    // Only the list read here: if the node stored it again meanwhile, the delete fails.
    await presence.delete(key, { previousSeq: entry.revision }).catch(() => {});
  }

  async close(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    if (this.up) {
      // The last members' left events first, then the liveness entry; drain sends what is buffered.
      await within(this.chain, 1_000, undefined);
      await within(engine.nodes.delete(this.options.node), 1_000, undefined).catch(() => {});
      this.engine = undefined;
      await engine.nc.drain().catch(() => {});
    }
    this.engine = undefined;
    if (!engine.nc.isClosed()) await engine.nc.close();
  }

  private ready(): Engine {
    if (!this.engine) throw new Error('the NATS connection is closed');
    return this.engine;
  }

  /** Runs after everything queued before; resolves when it has run (or failed). */
  private inOrder(run: () => unknown): Promise<void> {
    // While NATS is away writes would only wait for their timeouts: drop them (the outage is logged once).
    if (!this.up) return Promise.resolve();
    this.queued++;
    this.chain = this.chain
      .then(async () => {
        await run();
      })
      .catch(() => {})
      .finally(() => this.queued--);
    return this.chain;
  }

  private state(up: boolean, error?: unknown): void {
    if (up === this.up) return;
    this.up = up;
    this.onState(up, error);
  }

  private subject(channel: string, kind: 'm' | 'p' | '*'): string {
    return `${this.options.prefix}.c.${token(channel)}.${kind}`;
  }

  private presenceKey(channel: string, node: string): string {
    return `${token(channel)}.${node}`;
  }
}

/** Channel names may hold dots, which NATS reads as separators: base64url has none. */
function token(channel: string): string {
  return Buffer.from(channel).toString('base64url');
}
