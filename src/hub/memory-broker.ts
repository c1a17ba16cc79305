/**
 * The single-node broker: there are no other nodes to reach, so it only keeps
 * history and member lists. History outlives a channel's members (a world that
 * reloads gets its replay), bounded three ways: `maxHistory` messages and
 * `channelBytes` per channel, and `totalBytes` over all channels (the one
 * least recently published to or replayed is forgotten whole first).
 * Accounting is per message (no scans): a publish costs O(1) map work plus
 * whatever it evicts.
 */
import { count, names, type Broker, type ChannelEvent, type ChannelMessage, type KeyChange, type MemberCounts } from './broker.js';

/** What one kept message is counted as: its characters plus the object around them (about what it costs the heap). */
export const MESSAGE_OVERHEAD_BYTES = 100;

export function historyCost(message: ChannelMessage): number {
  return message.text.length + message.senderName.length + (message.coalesce?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
}

export interface HistoryBudget {
  /** Bytes of history over all channels. */
  totalBytes: number;
  /** Bytes of history in one channel (at most totalBytes). */
  channelBytes: number;
  /** Channels with history. */
  maxChannels: number;
}

export const DEFAULT_HISTORY_BUDGET: HistoryBudget = { totalBytes: 64 * 1024 * 1024, channelBytes: 1024 * 1024, maxChannels: 10_000 };

interface History {
  messages: ChannelMessage[];
  bytes: number;
}

export class MemoryBroker implements Broker {
  readonly description = 'memory (one node)';
  readonly reachable = true;
  onRemoteEvent: (event: ChannelEvent) => void = () => {};
  onRemoteKey: (change: KeyChange) => void = () => {};
  /** In order of use, least recent first. */
  private readonly histories = new Map<string, History>();
  private readonly present = new Map<string, MemberCounts>();
  private bytes = 0;
  private readonly budget: HistoryBudget;
  /** The channel at the end of `histories` (most recent): a stream to one channel does no reordering. */
  private latest: string | undefined;

  constructor(
    private readonly maxHistory: number,
    budget: Partial<HistoryBudget> = {},
  ) {
    const full = { ...DEFAULT_HISTORY_BUDGET, ...budget };
    this.budget = { ...full, channelBytes: Math.min(full.channelBytes, full.totalBytes) };
  }

  /** Bytes of history held now (as counted against the budget). */
  historyBytes(): number {
    return this.bytes;
  }

  async connect(): Promise<void> {}

  async subscribe(): Promise<void> {}

  async unsubscribe(): Promise<void> {}

  publish(event: ChannelEvent): void {
    if (event.type !== 'message') return this.track(event.channel, event.name, event.type === 'joined' ? 1 : -1);
    const cost = historyCost(event);
    if (this.maxHistory === 0 || cost > this.budget.channelBytes) return;
    const history = this.use(event.channel) ?? this.create(event.channel);
    history.messages.push(event);
    history.bytes += cost;
    this.bytes += cost;
    while (history.messages.length > this.maxHistory || history.bytes > this.budget.channelBytes) this.dropOldest(history);
    // Over the total: whole channels go, least recently used first (never the one just written: it is the most recent).
    while (this.bytes > this.budget.totalBytes) if (!this.forgetLeastRecent(event.channel)) break;
  }

  async history(channel: string, limit: number): Promise<ChannelMessage[]> {
    if (limit <= 0) return [];
    const history = this.use(channel);
    return history ? history.messages.slice(-limit) : [];
  }

  async members(channel: string): Promise<string[]> {
    return names(this.present.get(channel) ?? []);
  }

  publishKey(): void {}

  async close(): Promise<void> {
    this.histories.clear();
    this.present.clear();
    this.bytes = 0;
    this.latest = undefined;
  }

  private track(channel: string, name: string, by: number): void {
    let members = this.present.get(channel);
    if (!members) this.present.set(channel, (members = new Map()));
    count(members, name, by);
    if (members.size === 0) this.present.delete(channel);
  }

  /** The channel's history, now the most recently used; undefined if it has none. */
  private use(channel: string): History | undefined {
    const history = this.histories.get(channel);
    if (!history || this.latest === channel) return history;
    this.histories.delete(channel);
    this.histories.set(channel, history);
    this.latest = channel;
    return history;
  }

  private create(channel: string): History {
    const history: History = { messages: [], bytes: 0 };
    this.histories.set(channel, history);
    this.latest = channel;
    if (this.histories.size > this.budget.maxChannels) this.forgetLeastRecent(channel);
    return history;
  }

  private dropOldest(history: History): void {
    const oldest = history.messages.shift();
    if (!oldest) return;
    const cost = historyCost(oldest);
    history.bytes -= cost;
    this.bytes -= cost;
  }

  /** Forgets the least recently used channel's history (not `keep`); false if there is none other. */
  private forgetLeastRecent(keep: string): boolean {
    const oldest = this.histories.keys().next().value;
    if (oldest === undefined || oldest === keep) return false;
    this.bytes -= this.histories.get(oldest)?.bytes ?? 0;
    this.histories.delete(oldest);
    return true;
  }
}
