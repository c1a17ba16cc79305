/**
 * `/dashboard/ws`: the live feed for open dashboard pages. Every tick each
 * page gets one `state` (the part of the connection list it looks at, plus
 * channels and bridges), and the log goes out in batches; nothing is polled
 * and nothing runs while no page is open. Pages only from this server's own
 * origin are let in, so a web site open in the same browser cannot use it.
 *
 * Sockets that have not given the admin token yet are bounded apart from the
 * admin's pages (a few per address, a few dozen in all, oldest closed first,
 * 5 s to sign in), so strangers cannot lock the admin out by opening sockets.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { RequestError } from '../protocol/request-error.js';
import { refuseUpgrade } from '../server/http-pages.js';
import { loopbackHost, sameOrigin } from '../server/browser-guard.js';
import { clientAddress } from '../server/handshake.js';
import type { Socket } from 'node:net';
import type { ActivityLog } from './activity-log.js';
import type { DashboardAccess } from './dashboard-access.js';
import { PAGE_REQUEST, perform, type Action, type ActionContext } from './requests.js';
import { filterRows, findConnection, type Snapshot, type Views } from './views.js';
import type { Hello, PageRequest, ServerMessage, State } from './wire.js';

export interface FeedOptions {
  access: DashboardAccess;
  views: Views;
  activity: ActivityLog;
  actions: ActionContext;
  hello: () => Omit<Hello, 'type'>;
  /** Turns the hub tap and log recording on while a page is open. */
  watching(on: boolean): void;
  log: Logger;
  /** Take the client address from X-Forwarded-For (behind your own proxy). */
  trustProxy?: boolean;
  tickMs?: number;
  logFlushMs?: number;
}

interface Viewer {
  ws: WebSocket;
  address: string;
  admitted: boolean;
  failedAuth: number;
  view: Extract<PageRequest, { type: 'view' }>;
}

/** A page that has this much unsent is slow: it skips ticks until it catches up. */
const SLOW_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_FAILED_AUTH = 5;
/** A feed socket that has not given an admin token by then is closed (the page gives a stored token at once). */
const AUTH_DEADLINE_MS = 5_000;
/** Pages let in (with the admin token, or on loopback), all together: more is someone trying to exhaust the server. */
const MAX_VIEWERS = 32;
/** Sockets waiting to sign in, per address: past it the handshake answers 429. */
const MAX_WAITING_PER_ADDRESS = 4;
/** Sockets waiting to sign in, all addresses together: past it the oldest one is closed to make room. */
const MAX_WAITING = 64;

export class DashboardFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false });
  private readonly viewers = new Set<Viewer>();
  private timers: NodeJS.Timeout[] = [];
  /** The last snapshot: pages that change their view get their state from it at once. */
  private latest: Snapshot | undefined;
  private snapshotting = false;

  constructor(private readonly options: FeedOptions) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, reason: string) => {
      this.options.log.info({ path: FEED, remote: (socket as Socket).remoteAddress, status, reason }, 'handshake refused');
      refuseUpgrade(socket as Socket, status, reason);
    };
    if (!sameOrigin(req)) return refuse(403, 'The dashboard feed only accepts pages served by this server.');
    if (this.options.access.kind === 'open' && !fromThisComputer(req)) {
      // Open means "only this computer can reach it": a request for another host name (DNS rebinding) or through a proxy is not that.
      return refuse(403, 'Without a token the dashboard is only for this computer: open it at http://localhost:PORT/.');
    }
    if (this.options.access.kind === 'open' && this.admitted >= MAX_VIEWERS) {
      return refuse(503, `${MAX_VIEWERS} dashboard pages are open already; close one and reload.`);
    }
    const address = clientAddress(req, socket as Socket, this.options.trustProxy ?? false);
    const waiting = [...this.viewers].filter((viewer) => !viewer.admitted);
    if (waiting.filter((viewer) => viewer.address === address).length >= MAX_WAITING_PER_ADDRESS) {
      return refuse(429, `${MAX_WAITING_PER_ADDRESS} dashboard pages from your address are waiting for the admin token; give it in one of them.`);
    }
    // The oldest waiting socket makes room: strangers from many addresses cannot keep the admin out.
    const oldest = waiting.length >= MAX_WAITING ? waiting[0] : undefined;
    if (oldest) {
      this.viewers.delete(oldest);
      this.closeViewer(oldest, 1008, 'no admin token given');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, address));
  }

  /** Pages let in. */
  private get admitted(): number {
    let count = 0;
    for (const viewer of this.viewers) if (viewer.admitted) count++;
    return count;
  }

  close(): void {
    for (const viewer of this.viewers) viewer.ws.terminate();
    this.viewers.clear();
    this.watch();
    this.wss.close();
  }

  private open(ws: WebSocket, address: string): void {
    const viewer: Viewer = { ws, address, admitted: false, failedAuth: 0, view: { type: 'view', offset: 0, limit: 100, filter: '', selected: null } };
    this.viewers.add(viewer);
    const deadline = setTimeout(() => viewer.admitted || this.closeViewer(viewer, 1008, 'no admin token given'), AUTH_DEADLINE_MS);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clearTimeout(deadline);
      this.viewers.delete(viewer);
      this.watch();
    });
    ws.on('message', (data, isBinary) => {
      this.received(viewer, isBinary ? '' : data.toString()).catch((error: unknown) => this.options.log.error({ err: error }, 'dashboard request failed'));
    });
    if (this.options.access.kind === 'open') this.admit(viewer);
    else send(viewer, { type: 'auth-required' });
  }

  private admit(viewer: Viewer): void {
    viewer.admitted = true;
    send(viewer, { type: 'hello', ...this.options.hello() });
    this.watch();
    if (this.latest) this.show(viewer, this.latest);
    else void this.tick();
  }

  private async received(viewer: Viewer, text: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = PAGE_REQUEST.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      if (typeof id === 'number') send(viewer, { type: 'reply', id, ok: false, error: parsed.error.issues[0]?.message ?? 'not a request' });
      return;
    }
    const request = parsed.data;
    if (request.type === 'auth') return this.authenticate(viewer, request.token);
    if (!viewer.admitted) return send(viewer, { type: 'auth-required' });
    if (request.type === 'view') {
      viewer.view = request;
      if (this.latest) this.show(viewer, this.latest);
      return;
    }
    await this.act(viewer, request);
  }

  private authenticate(viewer: Viewer, token: string): void {
    const { access } = this.options;
    if (viewer.admitted) return;
    if (access.kind === 'token' && access.admits(token)) {
      if (this.admitted >= MAX_VIEWERS) return this.closeViewer(viewer, 1013, `${MAX_VIEWERS} dashboard pages are open already; close one`);
      return this.admit(viewer);
    }
    viewer.failedAuth++;
    send(viewer, { type: 'auth-required', reason: 'That token is not an admin token on this server.' });
    if (viewer.failedAuth >= MAX_FAILED_AUTH) this.closeViewer(viewer, 1008, 'too many wrong tokens');
  }

  /** Closes a page's feed on the server's decision, saying why in the log. */
  private closeViewer(viewer: Viewer, code: number, reason: string): void {
    this.options.log.info({ path: FEED, reason, closedBy: 'server' }, 'dashboard page closed');
    closeSoon(viewer.ws, code, reason);
  }

  private async act(viewer: Viewer, action: Action): Promise<void> {
    try {
      const data = await perform(action, this.options.actions);
      send(viewer, { type: 'reply', id: action.id, ok: true, data });
    } catch (error) {
      if (!(error instanceof RequestError)) this.options.log.error({ err: error, action: action.type }, 'dashboard action failed');
      const message = error instanceof RequestError ? error.message : 'the server failed to do that; see its log';
      send(viewer, { type: 'reply', id: action.id, ok: false, error: message });
    }
  }

  /** Starts the timers and the taps when the first page is let in; stops them when the last one leaves. */
  private watch(): void {
    const watching = [...this.viewers].some((viewer) => viewer.admitted);
    if (watching === (this.timers.length > 0)) return;
    this.options.watching(watching);
    if (!watching) {
      this.latest = undefined;
      for (const timer of this.timers) clearInterval(timer);
      this.timers = [];
      return;
    }
    this.timers = [
      setInterval(() => void this.tick(), this.options.tickMs ?? 1_000),
      setInterval(() => this.flushLog(), this.options.logFlushMs ?? 250),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** One snapshot at a time, shared by every page. */
  private async tick(): Promise<void> {
    if (this.snapshotting) return;
    this.snapshotting = true;
    try {
      this.latest = await this.options.views.snapshot();
    } catch (error) {
      this.options.log.error({ err: error }, 'dashboard snapshot failed');
      return;
    } finally {
      this.snapshotting = false;
    }
    for (const viewer of this.viewers) this.show(viewer, this.latest);
  }

  private show(viewer: Viewer, snapshot: Snapshot): void {
    if (ready(viewer)) send(viewer, stateFor(viewer, snapshot, this.options.actions));
  }

  private flushLog(): void {
    const batch = this.options.activity.take();
    if (!batch) return;
    const text = JSON.stringify(batch);
    for (const viewer of this.viewers) if (ready(viewer)) viewer.ws.send(text);
  }
}

/** Let in, and keeping up: a slow page skips updates until it catches up. */
function ready(viewer: Viewer): boolean {
  return viewer.admitted && viewer.ws.bufferedAmount <= SLOW_PAGE_BYTES;
}

function stateFor(viewer: Viewer, snapshot: Snapshot, actions: ActionContext): State {
  const { offset, limit, filter, selected } = viewer.view;
  const matching = filterRows(snapshot.rows, filter);
  const start = Math.min(offset, Math.max(0, matching.length - 1));
  const selectedRow = selected ? snapshot.rows.find((row) => row.id === selected) : undefined;
  const connection = selectedRow && findConnection(actions.connections(), selectedRow.id);
  return {
    type: 'state',
    now: Date.now(),
    totals: snapshot.totals,
    connections: { matching: matching.length, offset: start, rows: matching.slice(start, start + limit) },
    channels: snapshot.channels,
    bridges: snapshot.bridges,
    selected: selectedRow && connection ? { row: selectedRow, recent: connection.recent?.list() ?? [] } : null,
  };
}

/** Closes with a reason; a socket that does not answer the close frame within a second is cut (it is not worth 30 s). */
function closeSoon(ws: WebSocket, code: number, reason: string): void {
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), 1_000).unref();
}

function send(viewer: Viewer, message: ServerMessage): void {
  if (viewer.ws.readyState === viewer.ws.OPEN) viewer.ws.send(JSON.stringify(message));
}

const FORWARDED = ['x-forwarded-for', 'forwarded', 'x-real-ip'];
/** The feed's path, for log lines (dashboard.ts routes it). */
const FEED = '/dashboard/ws';

/** Asked for by a loopback name (not a rebound DNS name), not through a proxy. */
function fromThisComputer(req: IncomingMessage): boolean {
  return !FORWARDED.some((header) => header in req.headers) && loopbackHost(req);
}
