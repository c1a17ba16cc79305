/**
 * The Broker carries channel events between server nodes and keeps channel
 * history and who is in which channel. The Hub delivers to its own node's
 * members directly (no round trip through the broker, nothing reflected back
 * to the sender); the broker only has to reach *other* nodes.
 * Drivers, one file each: memory (one node), redis, nats; open-broker.ts
 * picks one from the `broker` setting (docs/scaling.md).
 */

export interface ChannelMessage {
  type: 'message';
  channel: string;
  senderName: string;
  text: string;
  /** A stream where only the latest value matters (an OSC parameter, a sensor): a client that falls behind gets the latest per key. */
  coalesce?: string;
  /**
   * Set by a cluster broker on messages from other nodes and in history
   * (`<node>:<seq>`): lets the Hub drop a live message that the history
   * replay it was held back for already had.
   */
  id?: string;
}

export type ChannelEvent = ChannelMessage | { type: 'joined' | 'left'; channel: string; name: string };

/** A key set (value) or deleted (undefined) on some node, for watchers on the others. */
export interface KeyChange {
  ns: string;
  key: string;
  value: string | undefined;
}

export interface Broker {
  /** What and where, for the banner and logs, e.g. `redis at redis://127.0.0.1:6379`. */
  readonly description: string;
  /** True while other nodes can be reached through it (always, for memory); /healthz reports it. */
  readonly reachable: boolean;
  /** Reaches the broker; rejects with an actionable message when it cannot. */
  connect(): Promise<void>;
  /** Start receiving other nodes' events for a channel (the first local member joined). */
  subscribe(channel: string): Promise<void>;
  /** Stop receiving them (the last local member left). */
  unsubscribe(channel: string): Promise<void>;
  /**
   * Send an event to other nodes. Messages are also added to the channel's
   * history; joined/left also change the channel's member list.
   */
  publish(event: ChannelEvent): void;
  /**
   * The channel's last `limit` messages, oldest first, as they were when this
   * was called: the Hub holds back live messages meanwhile and sends them after.
   */
  history(channel: string, limit: number): Promise<ChannelMessage[]>;
  /** Display names of the channel's members on every node, once per membership, sorted. */
  members(channel: string): Promise<string[]>;
  /** Tells other nodes' watchers that a key changed here. */
  publishKey(change: KeyChange): void;
  /** Bytes of history this process holds (the memory broker), counted as its budget counts them. */
  historyBytes?(): number;
  /** Called with events that other nodes published. Set by the Hub. */
  onRemoteEvent: (event: ChannelEvent) => void;
  /** Called with key changes made on other nodes. Set by the server. */
  onRemoteKey: (change: KeyChange) => void;
  close(): Promise<void>;
}

/** The broker cannot be used as set up; the message says what to do. */
export class BrokerError extends Error {
  override name = 'BrokerError';
}

/** Member name → how many memberships (connections, bridges) have it. */
export type MemberCounts = Map<string, number>;

/** Adds `by` (±1) to a name's count; a count that reaches 0 goes. */
export function count(members: MemberCounts, name: string, by: number): void {
  const next = (members.get(name) ?? 0) + by;
  if (next > 0) members.set(name, next);
  else members.delete(name);
}

/** Each name as many times as it is counted, sorted. */
export function names(...lists: Iterable<[string, number]>[]): string[] {
  const all: string[] = [];
  for (const list of lists) for (const [name, n] of list) for (let i = 0; i < n; i++) all.push(name);
  return all.sort();
}
