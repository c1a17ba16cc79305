/**
 * Web pages must not use the server behind the user's back. A page open in
 * the user's browser can reach ws://127.0.0.1:PORT and POST to it; with no
 * tokens (the default on localhost) nothing else would stop it. Resonite (and
 * every other non-browser client) sends no Origin header, and a browser always
 * does on a WebSocket and on any cross-site request, so:
 *   - a request with an Origin is let in only from this server's own pages
 *     (the dashboard) or from an origin listed in `allowedOrigins`;
 *   - on an open loopback server, the Host must be a loopback name, so a page
 *     whose DNS name was rebound to 127.0.0.1 (it would then be "same origin")
 *     is refused too.
 * The dashboard feed uses the same checks (sameOrigin, loopbackHost).
 */
import type { IncomingMessage } from 'node:http';
import type { Access } from '../auth/access.js';
import type { Config } from '../config/fields.js';
import { isLoopback } from './urls.js';

export interface BrowserPolicy {
  /** Origins (scheme://host[:port], lower case) whose pages may use the server. */
  allowed: ReadonlySet<string>;
  /** Refuse requests for a host name that is not loopback (an open server on loopback). */
  loopbackHostOnly: boolean;
}

export function browserPolicy(config: Pick<Config, 'allowedOrigins' | 'host' | 'trustProxy'>, access: Access): BrowserPolicy {
  return {
    allowed: new Set(config.allowedOrigins.map(normalOrigin)),
    // Behind your own proxy the Host is the public name; with tokens, a rebound page has no token.
    loopbackHostOnly: access.open && isLoopback(config.host) && !config.trustProxy,
  };
}

/** Why a request is refused as coming from a web page, or undefined if it may go on. */
export function browserRefusal(req: IncomingMessage, policy: BrowserPolicy): string | undefined {
  if (policy.loopbackHostOnly && !loopbackHost(req)) {
    return (
      `This server has no tokens, so it answers only requests for localhost or 127.0.0.1, not for "${shorten(req.headers.host ?? '')}" ` +
      '(a web page can make its own name point here). Connect to ws://localhost:PORT/…, or configure tokens (docs/security.md).'
    );
  }
  const origin = req.headers.origin;
  if (origin === undefined || sameOrigin(req) || policy.allowed.has(origin.toLowerCase())) return undefined;
  return (
    `Web pages may not use this server: this request came from a page at ${shorten(origin)}. ` +
    'If you built that page, add its origin to allowedOrigins (docs/security.md). Resonite sends no Origin and is not affected.'
  );
}

/** The origin to answer with CORS headers: one on the allow-list (the server's own pages need none). */
export function corsOrigin(req: IncomingMessage, policy: BrowserPolicy): string | undefined {
  const origin = req.headers.origin;
  return origin !== undefined && policy.allowed.has(origin.toLowerCase()) ? origin : undefined;
}

/** Asked for by a loopback name (localhost, 127.x.x.x, ::1), not by a DNS name that may have been rebound. */
export function loopbackHost(req: IncomingMessage): boolean {
  const host = req.headers.host ?? '';
  let loopback = hostAnswers.get(host);
  if (loopback === undefined) {
    try {
      loopback = isLoopback(new URL(`http://${host}`).hostname);
    } catch {
      loopback = false;
    }
    // Clients write the Host header: the memo is bounded, and starts over when full.
    if (hostAnswers.size >= MAX_HOSTS_REMEMBERED) hostAnswers.clear();
    hostAnswers.set(host, loopback);
  }
  return loopback;
}

/** The answer for each Host header seen (a handful in practice: 127.0.0.1:PORT, localhost:PORT), so a handshake parses no URL for it. */
const hostAnswers = new Map<string, boolean>();
const MAX_HOSTS_REMEMBERED = 256;

/** No Origin (not a browser), or one naming the host the request was sent to: a page this server served. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** `scheme://host[:port]` as browsers send it in Origin, or undefined if `text` is not one. */
export function parseOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (!/^https?:$/.test(url.protocol) || url.username || url.password) return undefined;
    if (text.replace(/\/$/, '').toLowerCase() !== url.origin.toLowerCase()) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

function normalOrigin(text: string): string {
  return (parseOrigin(text) ?? text).toLowerCase();
}

/** Header text echoed into a reason (and so the log): bounded. */
function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
