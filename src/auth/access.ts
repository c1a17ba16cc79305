/**
 * Who may do what. Resonite cannot send headers, so a token travels in the
 * URL: `?token=…`, or the path form `/t/<token>/…` for tools that drop query
 * strings. With no tokens configured everyone may do everything (the server
 * refuses to start that way on a non-loopback address unless allowAnonymous).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenSpec } from './token-spec.js';
import { parseScope, type Scope } from './scopes.js';

export interface Grant {
  /** The token's name (for logs), or `anonymous`. */
  name: string;
  scopes: readonly Scope[] | 'all';
}

export type AccessResult = { ok: true; grant: Grant } | { ok: false; status: 401 | 403; reason: string };

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Everyone, on a server without tokens: one object shared by every connection. */
export const ANONYMOUS: Grant = Object.freeze({ name: 'anonymous', scopes: 'all' });

/** `/t/<token>/channel/lobby` → the token and `/channel/lobby`. */
export function splitPathToken(pathname: string): { token?: string; path: string } {
  const match = /^\/t\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!match) return { path: pathname };
  const raw = match[1] ?? '';
  let token: string;
  try {
    token = decodeURIComponent(raw);
  } catch {
    token = raw; // malformed escapes: compare as written (it will not match a configured token)
  }
  return { token, path: match[2] ?? '/' };
}

export class Access {
  /** Each token's grant is made once and shared by every connection that shows it. */
  private readonly tokens: { hash: Buffer; grant: Grant }[];

  constructor(specs: TokenSpec[]) {
    this.tokens = specs.map((spec) => ({
      hash: spec.sha256 ? Buffer.from(spec.sha256, 'hex') : sha256(spec.token ?? ''),
      grant: Object.freeze({
        name: spec.name,
        scopes: Object.freeze(
          spec.allow.map((text) => {
            const parsed = parseScope(text);
            if (!parsed.ok) throw new Error(`token ${spec.name}: "${text}" is not a scope`);
            return parsed.scope;
          }),
        ),
      }),
    }));
  }

  get open(): boolean {
    return this.tokens.length === 0;
  }

  /** Who holds this token (checked in constant time); 401 when it is missing or unknown. */
  authenticate(token: string | undefined): AccessResult {
    if (this.open) return { ok: true, grant: ANONYMOUS };
    if (!token) {
      return { ok: false, status: 401, reason: 'This server needs a token. Add ?token=YOUR-TOKEN to the URL (ask whoever runs the server for one).' };
    }
    const hash = sha256(token);
    const found = this.tokens.find((entry) => timingSafeEqual(entry.hash, hash));
    if (!found) return { ok: false, status: 401, reason: 'That token is not valid on this server. Check it, or ask whoever runs the server for a new one.' };
    return { ok: true, grant: found.grant };
  }
}

/** May the grant use this endpoint at all? (`/echo`, `/api`, a channel to read, a custom path.) */
export function mayUse(grant: Grant, endpoint: { kind: 'echo' | 'api' | 'custom'; path: string } | { kind: 'channel'; channel: string }): boolean {
  if (grant.scopes === 'all') return true;
  return grant.scopes.some((scope) => {
    if (scope.kind === 'all') return true;
    switch (endpoint.kind) {
      case 'echo':
        return scope.kind === 'echo';
      case 'api':
        return scope.kind === 'api';
      case 'custom':
        return scope.kind === 'path' && scope.path === endpoint.path;
      case 'channel':
        return scope.kind === 'channel' && scope.pattern.test(endpoint.channel) && scope.permission.read;
    }
  });
}

/** The scope a token needs for this endpoint, as written in its allow list (for refusals that say what to add). */
export function missingScope(endpoint: { kind: 'echo' | 'api' | 'custom'; path: string } | { kind: 'channel'; channel: string }): string {
  switch (endpoint.kind) {
    case 'echo':
      return 'echo';
    case 'api':
      return 'api';
    case 'custom':
      return endpoint.path;
    case 'channel':
      return `channel:${endpoint.channel}`;
  }
}

/** May the grant read or write this channel? */
export function mayChannel(grant: Grant, channel: string, want: 'read' | 'write'): boolean {
  if (grant.scopes === 'all') return true;
  return grant.scopes.some((scope) => scope.kind === 'all' || (scope.kind === 'channel' && scope.pattern.test(channel) && scope.permission[want]));
}

/** May the grant change keys (set, del, incr)? */
export function mayWriteKeys(grant: Grant): boolean {
  if (grant.scopes === 'all') return true;
  return grant.scopes.some((scope) => scope.kind === 'all' || (scope.kind === 'api' && scope.permission.write));
}

/** May the grant list the open connections (GET /connections)? */
export function mayListConnections(grant: Grant): boolean {
  if (grant.scopes === 'all') return true;
  return grant.scopes.some((scope) => scope.kind === 'all' || scope.kind === 'connections');
}

/** Does the grant allow everything (`*`)? Metrics and the dashboard need that. */
export function isAdmin(grant: Grant): boolean {
  return grant.scopes === 'all' || grant.scopes.some((scope) => scope.kind === 'all');
}
