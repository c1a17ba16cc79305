/**
 * The single-node broker: there are no other nodes to reach, so it only keeps
 * history. History outlives a channel's members (a world that reloads gets
 * its replay), bounded by `maxHistory` messages per channel and
 * `maxChannels` channels, least recently used forgotten first.
 */
import type { Broker, ChannelEvent, ChannelMessage } from './broker.js';

export class MemoryBroker implements Broker {
  onRemoteEvent: (event: ChannelEvent) => void = () => {};
  private readonly histories = new Map<string, ChannelMessage[]>();

  constructor(
    private readonly maxHistory: number,
    private readonly maxChannels = 10_000,
  ) {}

  async subscribe(): Promise<void> {}

  async unsubscribe(): Promise<void> {}

  publish(event: ChannelEvent): void {
    if (event.type !== 'message' || this.maxHistory === 0) return;
    const history = this.touch(event.channel);
    history.push(event);
    if (history.length > this.maxHistory) history.shift();
  }

  async history(channel: string, limit: number): Promise<ChannelMessage[]> {
    const history = this.histories.get(channel);
    return history && limit > 0 ? history.slice(-limit) : [];
  }

  async close(): Promise<void> {
    this.histories.clear();
  }

  /** The channel's history, moved to most recently used. */
  private touch(channel: string): ChannelMessage[] {
    const history = this.histories.get(channel) ?? [];
    this.histories.delete(channel);
    this.histories.set(channel, history);
    if (this.histories.size > this.maxChannels) {
      const oldest = this.histories.keys().next().value;
      if (oldest !== undefined) this.histories.delete(oldest);
    }
    return history;
  }
}
