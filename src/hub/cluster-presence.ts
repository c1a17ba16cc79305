/**
 * Other nodes' members of the channels this node is subscribed to, as last
 * heard: from their presence events (each carries the node's whole member
 * list of the channel) and from the stored lists read on subscribe or
 * resync. Whichever is newer by the node's sequence wins, so a stored list
 * and a live event may arrive in any order. Changes found on a resync are
 * told as joined/left events, so clients see every change exactly once.
 */
import type { ChannelEvent, MemberCounts } from './broker.js';
import type { PresenceEntry } from './cluster-wire.js';

interface Known {
  s: number;
  p: MemberCounts;
  /** The mirror's change count when this was learned. */
  at: number;
}

export class PresenceMirror {
  private readonly channels = new Map<string, Map<string, Known>>();
  private changes = 0;

  constructor(private readonly emit: (event: ChannelEvent) => void) {}

  watch(channel: string): void {
    if (!this.channels.has(channel)) this.channels.set(channel, new Map());
  }

  unwatch(channel: string): void {
    this.channels.delete(channel);
  }

  watched(): string[] {
    return [...this.channels.keys()];
  }

  isWatched(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** Every other node's members of a watched channel. */
  lists(channel: string): MemberCounts[] {
    return [...(this.channels.get(channel)?.values() ?? [])].map((known) => known.p);
  }

  /** A live joined/left from `node`: applied and told unless something as new was known already. */
  event(node: string, event: { type: 'joined' | 'left'; channel: string; name: string }, entry: PresenceEntry): void {
    const nodes = this.channels.get(event.channel);
    if (!nodes) return;
    const known = nodes.get(node);
    if (known && known.s >= entry.s) return;
    this.set(nodes, node, entry);
    this.emit(event);
  }

  /** Taken before a stored read begins, and given back with its result to `stored`. */
  mark(): number {
    return this.changes;
  }

  /**
   * A node's stored list (undefined: it has none), read after `mark`. Only a
   * resync (`tell`) changes what is known, and its differences are told as joined/left.
   * The first read on subscribe only fills in nodes not heard from yet,
   * silently (single-node presence does not announce those already there):
   * a node heard from live is known completely, as every event carries its
   * whole list, and a later stored list must not swallow an event in flight.
   */
  stored(node: string, channel: string, entry: PresenceEntry | undefined, tell: boolean, mark = this.changes): void {
    const nodes = this.channels.get(channel);
    if (!nodes) return;
    const known = nodes.get(node);
    if (!tell) {
      if (!known && entry) this.set(nodes, node, entry);
      return;
    }
    // Read before an event we already applied reached the store: stale. With no list to compare, an
    // event learned while the read was under way is newer than the read's "none".
    if (known && (entry ? known.s > entry.s : known.at > mark)) return;
    this.tellDifference(channel, known?.p ?? new Map(), new Map(Object.entries(entry?.p ?? {})));
    if (entry) this.set(nodes, node, entry);
    else nodes.delete(node);
  }

  /** An emptied list stays known (a tombstone with its sequence), so an older stored list read late cannot bring its members back. */
  private set(nodes: Map<string, Known>, node: string, entry: PresenceEntry): void {
    nodes.set(node, { s: entry.s, p: new Map(Object.entries(entry.p)), at: ++this.changes });
  }

  /** Nodes with members in a watched channel. */
  nodesIn(channel: string): string[] {
    return [...(this.channels.get(channel)?.keys() ?? [])];
  }

  /** A node is gone: each of its members is told as left; returns the channels it was in. */
  drop(node: string): string[] {
    const channels: string[] = [];
    for (const [channel, nodes] of this.channels) {
      const known = nodes.get(node);
      if (!known) continue;
      nodes.delete(node);
      channels.push(channel);
      this.tellDifference(channel, known.p, new Map());
    }
    return channels;
  }

  private tellDifference(channel: string, before: MemberCounts, after: MemberCounts): void {
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const change = (after.get(name) ?? 0) - (before.get(name) ?? 0);
      const type = change > 0 ? 'joined' : 'left';
      for (let i = 0; i < Math.abs(change); i++) this.emit({ type, channel, name });
    }
  }
}
