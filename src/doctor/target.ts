/** Checks 1 and 2: the URL parses, and its scheme is one Resonite's WebsocketClient uses. */
import { hasScheme, WEBSOCKET_SCHEME } from '../util/ws-url.js';
import type { Check } from './report.js';

export interface Target {
  /** The ws:// or wss:// URL the rest of the checks use. */
  url: string;
  secure: boolean;
  /** Host name or address, without IPv6 brackets. */
  host: string;
  port: number;
  /** Path and query, e.g. `/channel/lobby?presence=1`. */
  path: string;
}

export function checkUrl(input: string): { checks: Check[]; target?: Target } {
  const text = input.trim();
  if (!hasScheme(text)) {
    return {
      checks: [
        {
          id: 'url',
          title: 'URL',
          status: 'fail',
          message: `"${text}" has no scheme`,
          fix: `Write the whole URL, starting with ws:// (or wss://), e.g. ws://${text.replace(/^\/+/, '') || 'localhost:8778/echo'}`,
        },
      ],
    };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { checks: [{ id: 'url', title: 'URL', status: 'fail', message: `"${text}" is not a valid URL`, fix: 'It should look like ws://localhost:8778/echo' }] };
  }
  const checks: Check[] = [{ id: 'url', title: 'URL', status: 'pass', message: text }];
  const scheme = WEBSOCKET_SCHEME[url.protocol];
  if (!scheme) {
    checks.push({
      id: 'scheme',
      title: 'Scheme',
      status: 'fail',
      message: `${url.protocol}// is not a WebSocket scheme`,
      fix: 'A WebsocketClient URL starts with ws:// (or wss:// for TLS).',
    });
    return { checks };
  }
  const secure = scheme === 'wss:';
  const wsUrl = new URL(text);
  wsUrl.protocol = scheme;
  if (scheme === url.protocol) {
    checks.push({ id: 'scheme', title: 'Scheme', status: 'pass', message: secure ? 'wss:// (WebSocket over TLS)' : 'ws:// (plain WebSocket)' });
  } else {
    checks.push({
      id: 'scheme',
      title: 'Scheme',
      status: 'fail',
      message: `${url.protocol}// is for web pages; Resonite's WebsocketClient needs ${scheme}//`,
      fix: `Use ${wsUrl.toString()} (checking that one below).`,
    });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  return { checks, target: { url: wsUrl.toString(), secure, host, port, path: `${url.pathname}${url.search}` } };
}
