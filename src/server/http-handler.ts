/**
 * Plain HTTP (no WebSocket upgrade). A WebSocket path answers 426 with a page
 * saying to use ws:// in the WebsocketClient URL: the most common mistake is
 * typing http:// into Resonite or opening the address in a browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { isAdmin } from '../auth/access.js';
import type { Endpoint } from './endpoint.js';
import { browserRefusal } from './browser-guard.js';
import { httpApi, logRefusal, requestToken, type HttpApiContext } from './http-api.js';
import { MCP_PATH, serveMcp } from './mcp-endpoint.js';
import { sendJson, sendPage } from './http-pages.js';
import { route } from './router.js';
import { endpointUrls } from './urls.js';

export interface HealthSource {
  health(): Record<string, unknown>;
  metrics(): Registry;
}

/** Something that may answer a request before the rest (the dashboard page). */
export interface PageSource {
  serve(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
}

export function httpHandler(endpoints: readonly Endpoint[], source: HealthSource, secure: boolean, api: HttpApiContext & { mcp: boolean }, pages?: PageSource) {
  const scheme = secure ? 'wss' : 'ws';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if ((req.method === 'GET' || req.method === 'HEAD') && pages?.serve(req, res, url)) return;
    if (url.pathname === MCP_PATH) return serveMcp(req, res, url, api, api.mcp);
    if (await httpApi(req, res, url, api)) return;
    const host = req.headers.host ?? 'localhost';
    const urls = endpointUrls(`${scheme}://${host}`, endpoints);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendPage(req, res, {
        status: 405,
        title: 'Method not allowed',
        paragraphs: [`${req.method} is not served here; this server answers GET (and WebSocket connections).`],
        urls,
        headers: { Allow: 'GET, HEAD' },
      });
      return;
    }
    if (url.pathname === '/metrics') {
      // With tokens configured, metrics need a token that allows everything (*); never a web page's.
      const fromPage = browserRefusal(req, api.browser);
      const auth = api.access.authenticate(requestToken(req, url));
      if (fromPage || !auth.ok || !isAdmin(auth.grant)) {
        const [status, error] = fromPage ? [403, fromPage] : [auth.ok ? 403 : 401, 'metrics need a token that allows everything (*): send Authorization: Bearer YOUR-TOKEN'];
        logRefusal(req, url, status, error, api.log);
        sendJson(req, res, status, { ok: false, error });
        return;
      }
      const registry = source.metrics();
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (url.pathname === '/healthz') {
      const health = source.health();
      sendJson(req, res, health.status === 'ok' ? 200 : 503, health);
      return;
    }
    if (url.pathname === '/') {
      sendPage(req, res, {
        status: 200,
        title: 'resobridge is running',
        paragraphs: ['Connect a Resonite WebsocketClient (or any WebSocket client) to one of the URLs below.'],
        urls,
      });
      return;
    }
    const found = route(endpoints, url.pathname);
    if ('endpoint' in found) {
      sendPage(req, res, {
        status: 426,
        title: 'This is a WebSocket address',
        paragraphs: [
          `Put ${scheme}://${host}${url.pathname}${url.search} (starting with ${scheme}://, not http${secure ? 's' : ''}://) into the URL field of ` +
            "a WebsocketClient in Resonite. A browser or an http:// link can't use it.",
        ],
        urls,
        headers: { Upgrade: 'websocket', Connection: 'Upgrade' },
      });
      return;
    }
    sendPage(req, res, { status: found.status, title: STATUS_TITLES[found.status] ?? 'Not found', paragraphs: [found.reason], urls });
  };
  // Never an unhandled rejection: a request that fails gets a 500, the server goes on.
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('The server failed to handle that request.\n');
    });
  };
}


const STATUS_TITLES: Record<number, string> = { 400: 'Bad request', 404: 'Not found' };
