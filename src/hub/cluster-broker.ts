/**
 * The Broker for several nodes, over a Transport (Redis or NATS).
 *
 * - Messages and joined/left go over the bus as envelopes (cluster-wire.ts);
 *   a node drops its own, so nothing is reflected back and nothing arrives
 *   twice. One connection publishes in order, so each sender's order holds.
 * - Presence: each node stores its own member list per channel, and every
 *   presence event carries that whole list (PresenceMirror). Liveness is a
 *   heartbeat every `heartbeatMs` that also refreshes a key that expires
 *   after `nodeTtlMs`: a node not heard from for nodeTtlMs is dead, and its
 *   members are told as left. Worst case, a dead node's members are seen for
 *   nodeTtlMs + heartbeatMs.
 * - Outages: a heartbeat carries the node's epoch, bumped on every reconnect
 *   (after the node has stored its lists again), so the others re-read it;
 *   and a node that reconnects re-reads everyone (their next heartbeat).
 */
import type { Logger } from '../log/logger.js';
import { BrokerError, count, names, type Broker, type ChannelEvent, type ChannelMessage, type KeyChange, type MemberCounts } from './broker.js';
import { PresenceMirror } from './cluster-presence.js';
import type { Transport } from './cluster-transport.js';
import { decode, decodeEntry, encode, type Envelope } from './cluster-wire.js';
import { within } from '../util/timeout.js';

/** Longest that sends to a channel wait for its subscription. */
const SUBSCRIBE_WAIT_MS = 5_000;

export interface ClusterTiming {
  heartbeatMs: number;
  nodeTtlMs: number;
}

interface Peer {
  lastSeen: number;
  /** Its epoch as last read; undefined until read. */
  epoch: number | undefined;
}

export class ClusterBroker implements Broker {
  onRemoteEvent: (event: ChannelEvent) => void = () => {};
  onRemoteKey: (change: KeyChange) => void = () => {};
  private seq = 0;
  private epoch = 0;
  private up = false;
  private lastTick = Date.now();
  /** A heartbeat has been stored: from then on, one that finds no liveness means it lapsed. */
  private beaten = false;
  private timer: NodeJS.Timeout | undefined;
  /** This node's members per channel. */
  private readonly local = new Map<string, MemberCounts>();
  /** Channels this node has members in and has stored a list for: stored again on reconnect. */
  private readonly written = new Set<string>();
  private readonly peers = new Map<string, Peer>();
  /** Channels whose subscription is under way. */
  private readonly opening = new Map<string, Promise<void>>();
  private readonly mirror = new PresenceMirror((event) => this.onRemoteEvent(event));

  constructor(
    private readonly transport: Transport,
    private readonly node: string,
    private readonly timing: ClusterTiming,
    private readonly log: Logger,
  ) {}

  get description(): string {
    return this.transport.description;
  }

  get reachable(): boolean {
    return this.up;
  }

  async connect(): Promise<void> {
    this.transport.onPayload = (payload) => this.guard(() => this.receive(payload), 'dropped a bad payload from the broker');
    this.transport.onState = (up, error) => this.guard(() => this.changed(up, error), 'broker state change failed');
    try {
      await this.transport.connect();
    } catch (error) {
      throw new BrokerError(`Cannot reach the broker (${this.description}): ${(error as Error).message}. ${this.transport.hint}`);
    }
    this.up = true;
    this.beat();
    this.timer = setInterval(() => this.guard(() => this.tick(), 'heartbeat failed'), this.timing.heartbeatMs);
    this.timer.unref();
  }

  async subscribe(channel: string): Promise<void> {
    this.mirror.watch(channel);
    const subscribed = this.transport.subscribe(channel);
    // What this node sends to the channel waits for the subscription: once
    // others see a member here, it hears their messages.
    // Bounded: during an outage the subscription waits for the broker, and what is held back would pile up.
    const gate = within(subscribed.catch(() => {}), SUBSCRIBE_WAIT_MS, undefined).finally(() => {
      if (this.opening.get(channel) === gate) this.opening.delete(channel);
    });
    this.opening.set(channel, gate);
    await subscribed;
    await this.readStored(channel, false);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.mirror.unwatch(channel);
    await this.transport.unsubscribe(channel);
  }

  publish(event: ChannelEvent): void {
    // Counted at once, so this node's own members answer without waiting for the subscription;
    // each presence event sent later carries the whole list as of its sending.
    if (event.type !== 'message') this.countLocal(event.channel, event.name, event.type === 'joined' ? 1 : -1);
    const gate = this.opening.get(event.channel);
    if (gate) void gate.then(() => this.guard(() => this.send(event), 'could not send to the broker'));
    else this.send(event);
  }

  private send(event: ChannelEvent): void {
    const s = ++this.seq;
    if (event.type === 'message') {
      const { channel: c, senderName: f, text: x, coalesce: k } = event;
      return this.transport.sendMessage(c, encode({ t: 'm', n: this.node, s, c, f, x, k }));
    }
    const p = Object.fromEntries(this.local.get(event.channel) ?? []);
    const t = event.type === 'joined' ? 'j' : 'l';
    this.transport.sendPresence(event.channel, encode({ t, n: this.node, s, c: event.channel, f: event.name, p }), this.entry(event.channel, s));
    // Its empty list is stored now; nothing to store again after an outage (no list reads as no members), so
    // channels this node no longer has members in are not remembered: a client cycling names cannot grow the set.
    if (!this.local.has(event.channel)) this.written.delete(event.channel);
  }

  private countLocal(channel: string, name: string, change: 1 | -1): void {
    let members = this.local.get(channel);
    if (!members) this.local.set(channel, (members = new Map()));
    count(members, name, change);
    if (members.size === 0) this.local.delete(channel);
  }

  async history(channel: string, limit: number): Promise<ChannelMessage[]> {
    if (limit <= 0) return [];
    const stored = await this.transport.history(channel, limit);
    return stored.flatMap((payload) => {
      const envelope = decode(payload);
      return envelope?.t === 'm' ? [toMessage(envelope)] : [];
    });
  }

  async members(channel: string): Promise<string[]> {
    const local = this.local.get(channel) ?? new Map<string, number>();
    if (this.mirror.isWatched(channel)) return names(local, ...this.mirror.lists(channel));
    const stored = await this.transport.presence(channel);
    const lists = [...stored].flatMap(([node, payload]) => (node === this.node ? [] : [Object.entries(decodeEntry(payload)?.p ?? {})]));
    return names(local, ...lists);
  }

  publishKey({ ns, key, value }: KeyChange): void {
    this.transport.sendCluster(encode({ t: 'k', n: this.node, s: ++this.seq, ns, key, v: value ?? null }));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // Going away on purpose is not an outage.
    this.transport.onState = () => {};
    await this.transport.close();
  }

  /**
   * This node's member list of a channel, as of sequence `s`, to store. An
   * empty list is stored too (not deleted), so a reader can tell it is newer
   * than an event it has seen.
   */
  private entry(channel: string, s: number): string {
    this.written.add(channel);
    return encode({ s, p: Object.fromEntries(this.local.get(channel) ?? []) });
  }

  private receive(payload: string): void {
    const envelope = decode(payload);
    if (!envelope) {
      this.log.warn({ bytes: payload.length }, 'dropped a payload from the broker that is not a resobridge envelope');
      return;
    }
    if (envelope.n === this.node) return;
    const peer = this.seen(envelope.n);
    switch (envelope.t) {
      case 'm':
        return this.onRemoteEvent(toMessage(envelope));
      case 'j':
      case 'l':
        return this.mirror.event(envelope.n, { type: envelope.t === 'j' ? 'joined' : 'left', channel: envelope.c, name: envelope.f }, envelope);
      case 'k':
        return this.onRemoteKey({ ns: envelope.ns, key: envelope.key, value: envelope.v ?? undefined });
      case 'h':
        if (peer.epoch !== envelope.e) {
          peer.epoch = envelope.e;
          for (const channel of this.mirror.watched()) void this.readStored(channel, true, envelope.n);
        }
    }
  }

  private seen(node: string): Peer {
    let peer = this.peers.get(node);
    if (!peer) this.peers.set(node, (peer = { lastSeen: 0, epoch: undefined }));
    peer.lastSeen = Date.now();
    return peer;
  }

  /** Reads the stored member lists of a channel (of one node, or all); `tell`: changes are told. */
  private async readStored(channel: string, tell: boolean, only?: string): Promise<void> {
    const mark = this.mirror.mark();
    let stored: Map<string, string>;
    try {
      stored = await this.transport.presence(channel);
    } catch (error) {
      this.log.warn({ err: error, channel }, 'could not read member lists from the broker; they are re-read when it is back');
      return;
    }
    const nodes = only ? [only] : [...new Set([...stored.keys(), ...this.mirror.nodesIn(channel)])];
    for (const node of nodes) {
      if (node === this.node) continue;
      const payload = stored.get(node);
      if (payload !== undefined) this.seen(node);
      this.mirror.stored(node, channel, payload === undefined ? undefined : decodeEntry(payload), tell, mark);
    }
  }

  private tick(): void {
    this.beat();
    const now = Date.now();
    const late = now - this.lastTick > 2 * this.timing.heartbeatMs;
    this.lastTick = now;
    // This process stalled: others' heartbeats may still wait unread, so nobody is judged this time.
    if (late) return;
    const deadline = now - this.timing.nodeTtlMs;
    for (const [node, peer] of this.peers) {
      if (peer.lastSeen >= deadline) continue;
      this.peers.delete(node);
      const channels = this.mirror.drop(node);
      if (channels.length > 0) this.log.info({ node, channels: channels.length }, 'a node stopped answering; its members left');
      // Whoever notices first clears its lists; later attempts find nothing.
      if (this.up) for (const channel of channels) this.transport.forget(node, channel).catch(() => {});
    }
  }

  private beat(): void {
    if (!this.up) return;
    const epoch = this.epoch;
    this.transport.heartbeat(encode({ t: 'h', n: this.node, s: ++this.seq, e: epoch })).then(
      (continuous) => {
        // Our liveness lapsed (a stall longer than nodeTtlMs): the others may have dropped us and our lists.
        // (The very first heartbeat has nothing to lapse from.)
        if (!continuous && this.beaten && epoch === this.epoch) this.guard(() => this.restore(), 'could not store member lists again');
        this.beaten = true;
      },
      () => {},
    );
  }

  private changed(up: boolean, error: unknown): void {
    this.up = up;
    if (!up) {
      this.log.warn({ err: error, broker: this.description }, 'broker unreachable: serving local clients only, reconnecting');
      return;
    }
    this.log.info({ broker: this.description }, 'broker reachable again: resyncing presence');
    // Re-read everyone on their next heartbeat: we may have missed their events.
    for (const peer of this.peers.values()) peer.epoch = undefined;
    this.restore();
  }

  /** Stores our lists again (the broker may have lost them), then tells everyone to re-read them. */
  private restore(): void {
    this.epoch++;
    // Liveness first: others clear the lists of a node that looks dead.
    this.transport.refresh();
    for (const channel of this.written) this.transport.sendPresence(channel, undefined, this.entry(channel, ++this.seq));
    this.beat();
  }

  private guard(run: () => void, what: string): void {
    try {
      run();
    } catch (error) {
      this.log.error({ err: error }, what);
    }
  }
}

function toMessage(envelope: Extract<Envelope, { t: 'm' }>): ChannelMessage {
  const message: ChannelMessage = { type: 'message', channel: envelope.c, senderName: envelope.f, text: envelope.x, id: `${envelope.n}:${envelope.s}` };
  if (envelope.k !== undefined) message.coalesce = envelope.k;
  return message;
}
