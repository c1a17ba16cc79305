/**
 * What the dashboard shows, read off the running server once per tick and
 * shared by every open page: connection rows, channels with their rates, bridges.
 */
import { stateLabel, type BridgeStatus } from '../bridges/bridge.js';
import type { Hub, Recipient } from '../hub/hub.js';
import type { Connection } from '../server/connection.js';
import type { BridgeRow, ChannelRow, ConnectionRow } from './wire.js';

export interface ViewSources {
  connections: () => Iterable<Connection>;
  hub: Hub;
  bridges: () => BridgeStatus[];
  maxHistory: number;
}

/** Most channels listed (the busiest by members first). */
const MAX_CHANNELS_LISTED = 200;
/** History lengths are read from the broker this often, not every tick (with Redis or NATS each is a round trip). */
const HISTORY_REFRESH_MS = 5_000;

export interface Snapshot {
  rows: ConnectionRow[];
  channels: ChannelRow[];
  bridges: BridgeRow[];
  totals: { connections: number; channels: number; queued: number; dropped: number };
}

export class Views {
  /** Channel messages counted by the hub tap since the last snapshot. */
  private readonly counted = new Map<string, number>();
  private lastAt = Date.now();
  private histories = new Map<string, number>();
  private historiesAt = 0;

  constructor(private readonly sources: ViewSources) {}

  countMessage(channel: string): void {
    this.counted.set(channel, (this.counted.get(channel) ?? 0) + 1);
  }

  async snapshot(): Promise<Snapshot> {
    const now = Date.now();
    const seconds = Math.max((now - this.lastAt) / 1000, 0.001);
    this.lastAt = now;
    const channelsOf = new Map<Recipient, string[]>();
    const channels: { name: string; members: Recipient[] }[] = [];
    for (const [name, members] of this.sources.hub.localMembers()) {
      channels.push({ name, members });
      for (const member of members) channelsOf.set(member, [...(channelsOf.get(member) ?? []), name]);
    }
    channels.sort((a, b) => b.members.length - a.members.length || a.name.localeCompare(b.name));
    const listed = channels.slice(0, MAX_CHANNELS_LISTED);
    const { hub, maxHistory } = this.sources;
    const local = (members: Recipient[]) => members.map((member) => member.name);
    const refresh = now - this.historiesAt >= HISTORY_REFRESH_MS;
    const [histories, everywhere] = await Promise.all([
      refresh ? Promise.all(listed.map(({ name }) => hub.historyLength(name, maxHistory).catch(() => 0))) : undefined,
      // With several nodes, members on all of them (local ones only if the broker cannot say right now).
      Promise.all(listed.map(({ name, members }) => hub.members(name).catch(() => local(members)))),
    ]);
    if (histories) {
      this.histories = new Map(listed.map(({ name }, i) => [name, histories[i] ?? 0]));
      this.historiesAt = now;
    }
    const channelRows = listed.map(({ name, members }, i) => ({
      name,
      members: everywhere[i] ?? local(members),
      rate: Math.round(((this.counted.get(name) ?? 0) / seconds) * 10) / 10,
      history: this.histories.get(name) ?? 0,
    }));
    this.counted.clear();
    const rows: ConnectionRow[] = [];
    let queued = 0;
    let dropped = 0;
    for (const connection of this.sources.connections()) {
      const row = connectionRow(connection, channelsOf.get(connection) ?? []);
      queued += row.queued;
      dropped += row.dropped;
      rows.push(row);
    }
    return {
      rows,
      channels: channelRows,
      bridges: this.sources.bridges().map(({ name, type, state, detail }) => ({ name, type, state, label: stateLabel(state), detail })),
      totals: { connections: rows.length, channels: channels.length, queued, dropped },
    };
  }
}

export function connectionRow(connection: Connection, channels: string[]): ConnectionRow {
  return {
    id: connection.id,
    path: connection.shownPath,
    endpoint: connection.endpoint,
    channels,
    name: connection.name,
    remote: connection.remoteAddress,
    connectedAt: connection.connectedAt,
    messagesIn: connection.messagesIn,
    messagesOut: connection.messagesOut,
    queued: connection.queued,
    dropped: connection.dropped,
    lastMessageAt: connection.recent?.lastTime ?? 0,
  };
}

export function findConnection(connections: Iterable<Connection>, id: string): Connection | undefined {
  for (const connection of connections) if (connection.id === id) return connection;
  return undefined;
}

/** Rows whose id, name, path, address or channels contain `filter` (any case). */
export function filterRows(rows: ConnectionRow[], filter: string): ConnectionRow[] {
  const wanted = filter.trim().toLowerCase();
  if (!wanted) return rows;
  return rows.filter((row) =>
    [row.id, row.name, row.path, row.remote, ...row.channels].some((field) => field.toLowerCase().includes(wanted)),
  );
}
