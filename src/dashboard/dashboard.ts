/**
 * The live dashboard: the page (built by Vite into dist/web), its feed
 * (`/dashboard/ws`), and the taps that feed it. createServer makes one and
 * asks it first about every plain request and upgrade.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Access } from '../auth/access.js';
import type { BridgeStatus } from '../bridges/bridge.js';
import type { Config } from '../config/fields.js';
import type { Hub } from '../hub/hub.js';
import type { ConnectionWatcher } from '../server/accept.js';
import type { Connection } from '../server/connection.js';
import { sendPage } from '../server/http-pages.js';
import { RecentMessages } from '../server/recent-messages.js';
import type { KeyValue } from '../store/keyvalue.js';
import { noticeText, type Notice } from '../log/notices.js';
import { commandPrefix } from '../util/how-started.js';
import { ActivityLog } from './activity-log.js';
import { dashboardAccess } from './dashboard-access.js';
import { DashboardFeed } from './feed.js';
import { DASHBOARD_SENDER } from './requests.js';
import { BASE, loadStaticFiles } from './static-files.js';
import { Views } from './views.js';
import type { Hello } from './wire.js';

export interface DashboardSources {
  config: Config;
  access: Access;
  hub: Hub;
  connections: () => Iterable<Connection>;
  keyvalue: () => KeyValue | undefined;
  bridges: () => BridgeStatus[];
  hello: () => Omit<Hello, 'type' | 'logLimit' | 'commands'>;
  log: Logger;
}

export interface Dashboard {
  /** True if it answered the request (the page or its assets). */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  /** True if it took the upgrade (the feed). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Open (loopback), behind an admin token, or off (with why). */
  readonly state: { state: 'open' | 'token' | 'off'; reason?: string };
  /** Sees every client connection and what it sends. */
  readonly watcher: ConnectionWatcher;
  /** A refusal or a close the server logged with its reason: shown in the log tab too. */
  notice(notice: Notice): void;
  close(): void;
}

/** The state of a server started with --no-dashboard. */
export const DASHBOARD_DISABLED: Dashboard['state'] = { state: 'off', reason: 'The dashboard is turned off on this server (--no-dashboard).' };

export const FEED_PATH = `${BASE}ws`;
/** Entries a page keeps in its log (its bound; older ones scroll away). */
const LOG_LIMIT = 2_000;
const RELAY = /^\/channel\/([^/]+)$/;

export function createDashboard(sources: DashboardSources): Dashboard | undefined {
  const { config, hub, log } = sources;
  if (!config.dashboard) return undefined;
  const access = dashboardAccess(config, sources.access);
  const files = access.kind === 'off' ? undefined : loadStaticFiles();
  if (access.kind !== 'off' && !files) log.warn('the dashboard page is not built (run npm run build); / shows the plain index page');
  const activity = new ActivityLog();
  const views = new Views({ connections: sources.connections, hub, bridges: sources.bridges, maxHistory: config.maxHistory });
  const feed = new DashboardFeed({
    access,
    views,
    activity,
    log,
    trustProxy: config.trustProxy,
    hello: () => ({ ...sources.hello(), logLimit: LOG_LIMIT, commands: { doctor: commandPrefix('doctor'), client: commandPrefix('client') } }),
    actions: {
      connections: sources.connections,
      hub,
      keyvalue: sources.keyvalue,
      maxMessageBytes: config.maxMessageBytes,
      sent: (connection, text) => activity.add({ kind: 'out', conn: connection.id, endpoint: connection.endpoint, from: DASHBOARD_SENDER, text }),
    },
    watching(on) {
      activity.recording = on;
      // Recent messages are kept only while a page is open: nothing is spent on them otherwise.
      for (const connection of sources.connections()) connection.recent = on ? new RecentMessages() : undefined;
      hub.tap = on
        ? (event, relayed) => {
            views.countMessage(event.channel);
            // A relay client's message is already in the log as what it sent.
            if (!relayed) activity.add({ kind: 'channel', channel: event.channel, from: event.senderName, text: event.text });
          }
        : undefined;
    },
  });

  return {
    serve(req, res, url) {
      const wantsPage = url.pathname === '/' ? (req.headers.accept ?? '').includes('text/html') : url.pathname === '/dashboard' || url.pathname.startsWith(BASE);
      if (!wantsPage) return false;
      if (access.kind === 'off') {
        if (url.pathname === '/') return false;
        sendPage(req, res, { status: 404, title: 'The dashboard is off', paragraphs: [access.reason], urls: [] });
        return true;
      }
      const path = url.pathname === '/' || url.pathname === '/dashboard' || url.pathname === BASE ? `${BASE}index.html` : url.pathname;
      const file = files?.get(path);
      if (!file) {
        if (url.pathname === '/') return false;
        const reason = files ? `There is no ${url.pathname} here; the dashboard is at ${BASE}.` : 'The dashboard page is not built: run npm run build.';
        sendPage(req, res, { status: 404, title: 'Not found', paragraphs: [reason], urls: [] });
        return true;
      }
      res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': file.cache, 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    },
    state: access.kind === 'off' ? { state: 'off', reason: access.reason } : { state: access.kind },
    upgrade(req, socket, head) {
      if (req.url?.split('?')[0] !== FEED_PATH || access.kind === 'off') return false;
      feed.upgrade(req, socket, head);
      return true;
    },
    watcher: {
      opened(connection) {
        if (activity.recording) connection.recent = new RecentMessages();
      },
      received(connection, text) {
        connection.recent?.add('in', text);
        if (!activity.recording) return;
        activity.add({ kind: 'in', conn: connection.id, endpoint: connection.endpoint, channel: relayChannel(connection.path), from: connection.name, text });
      },
    },
    notice(notice) {
      const { conn, remote } = notice.fields;
      activity.add({
        kind: 'server',
        conn: typeof conn === 'string' ? conn : undefined,
        from: typeof remote === 'string' ? remote : undefined,
        text: noticeText(notice),
      });
    },
    close: () => feed.close(),
  };
}

/** The channel of a relay connection (`/channel/<name>`), from its path. */
function relayChannel(path: string): string | undefined {
  const raw = RELAY.exec(path)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
