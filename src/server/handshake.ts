/**
 * Decides a WebSocket handshake at once (a hanging handshake stalls
 * Resonite): which endpoint, whose token, whether it may, and whether the
 * address is within its limits. Answers refusals with a status and a text
 * that says what to do.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { mayUse, missingScope, splitPathToken, type Access, type Grant } from '../auth/access.js';
import { redactPath, redactReason } from '../util/redact-url.js';
import { browserRefusal, type BrowserPolicy } from './browser-guard.js';
import type { Endpoint } from './endpoint.js';
import type { InboundLimits } from './inbound-limits.js';
import { route } from './router.js';

export interface Admitted {
  endpoint: Endpoint;
  params: Record<string, string>;
  grant: Grant;
  /** The path that was routed (a /t/<token> prefix removed), for the connection and logs. */
  path: string;
  /** The query string, without `?`. */
  search: string;
  remoteAddress: string;
}

export type Decision =
  | { ok: true; admitted: Admitted }
  | {
      ok: false;
      status: number;
      /** For the client (the HTTP body). */
      reason: string;
      /** The same, fit for the log: no token in it. */
      loggedReason: string;
      path: string;
      remoteAddress: string;
    };

export function decide(
  req: IncomingMessage,
  socket: Socket,
  context: { endpoints: readonly Endpoint[]; access: Access; limits: InboundLimits; trustProxy: boolean; browser: BrowserPolicy },
): Decision {
  const remoteAddress = clientAddress(req, socket, context.trustProxy);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const refuse = (status: number, reason: string): Decision => {
    // Logged as sent (before URL parsing, which reads `//t/<token>` as a host), with every token redacted.
    const logged = redactPath((req.url ?? '/').split('?')[0] ?? '/');
    return { ok: false, status, reason, loggedReason: redactReason(reason, url.pathname, logged), path: logged, remoteAddress };
  };
  const fromPage = browserRefusal(req, context.browser);
  if (fromPage) return refuse(403, fromPage);
  const { token: pathToken, path } = splitPathToken(url.pathname);

  const found = route(context.endpoints, path);
  if (!('endpoint' in found)) return refuse(found.status, found.reason);
  const auth = context.access.authenticate(pathToken ?? queryToken(url));
  if (!auth.ok) return refuse(auth.status, auth.reason);
  const { endpoint, params } = found;
  const target = endpoint.kind === 'channel' ? { kind: 'channel' as const, channel: params.channel ?? '' } : { kind: endpoint.kind, path: endpoint.path };
  if (!mayUse(auth.grant, target)) {
    return refuse(
      403,
      `The token "${auth.grant.name}" may not use ${path}: it needs the scope "${missingScope(target)}". ` +
        `Add "${missingScope(target)}" to that token's allow list in the server's config file, or ask whoever runs the server for a token that allows it.`,
    );
  }
  const limited = context.limits.admit(remoteAddress);
  if (limited) return refuse(limited.status, limited.reason);
  return { ok: true, admitted: { endpoint, params, grant: auth.grant, path, search: url.search.slice(1), remoteAddress } };
}

/** `?token=` (its name possibly %-escaped); the query is parsed only if it could hold one. */
function queryToken(url: URL): string | undefined {
  const search = url.search;
  if (!search.includes('token') && !search.includes('%')) return undefined;
  return url.searchParams.get('token') ?? undefined;
}

/**
 * The client's address; behind your own reverse proxy (trustProxy), the last X-Forwarded-For entry:
 * the one the proxy added (nginx's $proxy_add_x_forwarded_for, Caddy). Entries before it are whatever
 * the client sent, and trusting them would let one client pass for as many addresses as it likes.
 */
export function clientAddress(req: IncomingMessage, socket: Socket, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const entries = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
  const last = entries?.split(',').at(-1)?.trim();
  return last || socket.remoteAddress || 'unknown';
}
