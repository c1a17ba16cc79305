/**
 * What a cluster broker needs of a distributed engine (Redis, NATS): a bus
 * for channel events and a small shared store for history, member lists and
 * which nodes are alive. ClusterBroker does everything else once, for both.
 */
export interface TransportOptions {
  /** Names every key, subject and stream, so several clusters can share one Redis or NATS. */
  prefix: string;
  /** This node's id. */
  node: string;
  /** A node that has not refreshed its liveness for this long is dead. */
  nodeTtlMs: number;
  /** Messages kept per channel (0: no history). */
  maxHistory: number;
  /** Bytes of history kept per channel and over all channels, where the engine can hold it to that (docs/scaling.md). */
  historyBytes: { channelBytes: number; totalBytes: number };
}

export interface Transport {
  readonly description: string;
  /** What to check when it cannot be reached, e.g. that Redis runs and the URL is right. */
  readonly hint: string;
  /** First connection; rejects with what to check when the engine cannot be reached. */
  connect(): Promise<void>;
  /** Every payload from the subscribed channels and the cluster topic, this node's own included. */
  onPayload: (payload: string) => void;
  /** The connection was lost (with why) or is back. Told on changes only. */
  onState: (up: boolean, error?: unknown) => void;
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Sends a channel message and appends it to the channel's history. */
  sendMessage(channel: string, payload: string): void;
  /** Stores this node's member list of a channel, then sends the event, if any (in this order: a reader of the store has seen at least what was sent). */
  sendPresence(channel: string, payload: string | undefined, entry: string): void;
  /** Sends on the cluster topic. */
  sendCluster(payload: string): void;
  /**
   * Refreshes this node's liveness, then sends the heartbeat. False when the
   * liveness had lapsed (a stall, an outage, the first beat): other nodes may
   * have dropped this node and cleared its member lists.
   */
  heartbeat(payload: string): Promise<boolean>;
  /** Refreshes this node's liveness, in order with what is sent after. */
  refresh(): void;
  /** The channel's last `limit` message payloads, oldest first. */
  history(channel: string, limit: number): Promise<string[]>;
  /** Stored member lists of a channel, of live nodes only: node → entry. Lists of dead nodes found are removed (as forget). */
  presence(channel: string): Promise<Map<string, string>>;
  /**
   * Removes a dead node's member list of a channel, unless the node is alive
   * after all or has stored the list again since (it stalled and came back).
   */
  forget(node: string, channel: string): Promise<void>;
  /** Removes this node's liveness and disconnects. */
  close(): Promise<void>;
}
