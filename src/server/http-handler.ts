/**
 * Plain HTTP (no WebSocket upgrade). A WebSocket path answers 426 with a page
 * saying to use ws:// in the WebsocketClient URL: the most common mistake is
 * typing http:// into Resonite or opening the address in a browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Endpoint } from './endpoint.js';
import { sendJson, sendPage } from './http-pages.js';
import { route } from './router.js';
import { endpointUrls } from './urls.js';

export interface HealthSource {
  health(): Record<string, unknown>;
}

export function httpHandler(endpoints: readonly Endpoint[], source: HealthSource, secure: boolean) {
  const scheme = secure ? 'wss' : 'ws';
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
    if (url.pathname === '/healthz') {
      sendJson(req, res, 200, source.health());
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
}

const STATUS_TITLES: Record<number, string> = { 400: 'Bad request', 404: 'Not found' };
