/**
 * The Broker carries channel events between server nodes and keeps channel
 * history. The Hub delivers to its own node's members directly (no round trip
 * through the broker, nothing reflected back to the sender); the broker only
 * has to reach *other* nodes. Drivers: memory (one node) now; Redis and NATS
 * later, each in its own file against this interface.
 */

export interface ChannelMessage {
  type: 'message';
  channel: string;
  senderName: string;
  text: string;
  /** A stream where only the latest value matters (an OSC parameter, a sensor): a client that falls behind gets the latest per key. */
  coalesce?: string;
}

export type ChannelEvent = ChannelMessage | { type: 'joined' | 'left'; channel: string; name: string };

export interface Broker {
  /** Start receiving other nodes' events for a channel (the first local member joined). */
  subscribe(channel: string): Promise<void>;
  /** Stop receiving them (the last local member left). */
  unsubscribe(channel: string): Promise<void>;
  /** Send an event to other nodes; messages are also added to the channel's history. */
  publish(event: ChannelEvent): void;
  /**
   * The channel's last `limit` messages, oldest first, as they were when this
   * was called: the Hub holds back live messages meanwhile and sends them after.
   */
  history(channel: string, limit: number): Promise<ChannelMessage[]>;
  /** Called with events that other nodes published. Set by the Hub. */
  onRemoteEvent: (event: ChannelEvent) => void;
  close(): Promise<void>;
}
