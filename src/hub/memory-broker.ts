/**
 * The single-node broker: there are no other nodes to reach, so it only keeps
 * history and member lists. History outlives a channel's members (a world that
 * reloads gets its replay), bounded by `maxHistory` messages per channel and
 * `maxChannels` channels; the one least recently created or replayed is
 * forgotten first (not reordered per message: that is the hot path).
 */
import { count, names, type Broker, type ChannelEvent, type ChannelMessage, type KeyChange, type MemberCounts } from './broker.js';

export class MemoryBroker implements Broker {
  readonly description = 'memory (one node)';
  readonly reachable = true;
  onRemoteEvent: (event: ChannelEvent) => void = () => {};
  onRemoteKey: (change: KeyChange) => void = () => {};
  private readonly histories = new Map<string, ChannelMessage[]>();
  private readonly present = new Map<string, MemberCounts>();

  constructor(
    private readonly maxHistory: number,
    private readonly maxChannels = 10_000,
  ) {}

  async connect(): Promise<void> {}

  async subscribe(): Promise<void> {}

  async unsubscribe(): Promise<void> {}

  publish(event: ChannelEvent): void {
    if (event.type !== 'message') return this.track(event.channel, event.name, event.type === 'joined' ? 1 : -1);
    if (this.maxHistory === 0) return;
    let history = this.histories.get(event.channel);
    if (!history) {
      this.histories.set(event.channel, (history = []));
      this.forgetOldest();
    }
    history.push(event);
    if (history.length > this.maxHistory) history.shift();
  }

  async history(channel: string, limit: number): Promise<ChannelMessage[]> {
    const history = this.histories.get(channel);
    if (!history || limit <= 0) return [];
    // Read: now the most recently used.
    this.histories.delete(channel);
    this.histories.set(channel, history);
    return history.slice(-limit);
  }

  async members(channel: string): Promise<string[]> {
    return names(this.present.get(channel) ?? []);
  }

  publishKey(): void {}

  async close(): Promise<void> {
    this.histories.clear();
    this.present.clear();
  }

  private track(channel: string, name: string, by: number): void {
    let members = this.present.get(channel);
    if (!members) this.present.set(channel, (members = new Map()));
    count(members, name, by);
    if (members.size === 0) this.present.delete(channel);
  }

  /** Past maxChannels, the channel whose history was least recently created or read goes. */
  private forgetOldest(): void {
    if (this.histories.size <= this.maxChannels) return;
    const oldest = this.histories.keys().next().value;
    if (oldest !== undefined) this.histories.delete(oldest);
  }
}
