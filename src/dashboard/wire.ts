/**
 * What the dashboard page and the server say to each other over
 * `/dashboard/ws`, as JSON (the page is a browser, not a world). Types only:
 * the page (web/) imports them too, so both sides agree by construction.
 */

export interface EndpointLink {
  url: string;
  example: string;
  summary: string;
}

/** Sent once, after the page is let in. */
export interface Hello {
  type: 'hello';
  version: string;
  startedAt: number;
  /** Base URLs (ws://host:port) that reach this server. */
  bases: string[];
  endpoints: EndpointLink[];
  store: string;
  /** The channel broker: memory (one node), or the Redis / NATS that nodes share. */
  broker: string;
  /** The most messages the log keeps per page (the page's buffer bound). */
  logLimit: number;
  /** How to run doctor and client where this server runs (a clone: `npm run doctor --`; installed: `resobridge doctor`); a URL follows. */
  commands: { doctor: string; client: string };
}

export interface ConnectionRow {
  id: string;
  path: string;
  /** Endpoint kind: echo, channel, api, or a custom one. */
  endpoint: string;
  channels: string[];
  name: string;
  remote: string;
  connectedAt: number;
  messagesIn: number;
  messagesOut: number;
  queued: number;
  dropped: number;
  /** 0 if no message has gone either way yet. */
  lastMessageAt: number;
}

export interface ChannelRow {
  name: string;
  /** Display names of its members on every node. */
  members: string[];
  /** Messages per second over the last tick. */
  rate: number;
  history: number;
}

export interface BridgeRow {
  name: string;
  type: string;
  /** connecting, connected, running, retrying, failed or stopped (the badge's colour). */
  state: string;
  /** The state as shown: connected is "up". */
  label: string;
  /** What it is connected to, or why it is retrying or failed. */
  detail?: string;
}

export interface RecentRow {
  time: number;
  direction: 'in' | 'out';
  text: string;
}

/** Sent every tick: everything the page shows, for the part of the connection list it is looking at. */
export interface State {
  type: 'state';
  now: number;
  totals: { connections: number; channels: number; queued: number; dropped: number };
  /** The page of connections asked for with `view`, after its filter; `matching` is how many matched in all. */
  connections: { matching: number; offset: number; rows: ConnectionRow[] };
  channels: ChannelRow[];
  bridges: BridgeRow[];
  /** The connection the page selected, with its recent messages; null if it has gone. */
  selected: { row: ConnectionRow; recent: RecentRow[] } | null;
}

export interface LogEntry {
  seq: number;
  time: number;
  /**
   * in: a client sent it; channel: published to a channel by something other than a relay client; out: sent from this page;
   * server: the server refused something or closed a connection, and why (as in its log).
   */
  kind: 'in' | 'channel' | 'out' | 'server';
  conn?: string;
  endpoint?: string;
  channel?: string;
  from?: string;
  text: string;
}

export interface LogBatch {
  type: 'log';
  entries: LogEntry[];
  /** Entries left out since the last batch because there were too many to show. */
  skipped: number;
}

export interface Reply {
  type: 'reply';
  id: number;
  ok: boolean;
  error?: string;
  data?: unknown;
}

/** The page must send `auth` with an admin token; `reason` says why the last one failed, if it did. */
export interface AuthRequired {
  type: 'auth-required';
  reason?: string;
}

export type ServerMessage = Hello | State | LogBatch | Reply | AuthRequired;

export interface KeyValueRow {
  key: string;
  value: string | null;
}

/** What the page may ask; `id` is repeated in the reply. */
export type PageRequest =
  | { type: 'auth'; token: string }
  | { type: 'view'; offset: number; limit: number; filter: string; selected: string | null }
  | { type: 'send'; id: number; conn: string; text: string }
  | { type: 'publish'; id: number; channel: string; text: string }
  | { type: 'keys'; id: number; ns: string; prefix: string }
  | { type: 'set'; id: number; ns: string; key: string; value: string }
  | { type: 'delete'; id: number; ns: string; key: string };
