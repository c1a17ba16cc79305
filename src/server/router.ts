/** Finds the endpoint for a URL path. */
import { clip } from '../protocol/clip.js';
import type { Endpoint } from './endpoint.js';

export type Route =
  | { endpoint: Endpoint; params: Record<string, string> }
  | { status: number; reason: string };

export function route(endpoints: readonly Endpoint[], pathname: string): Route {
  // "/echo/" means "/echo": people copy URLs with a trailing slash.
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  for (const endpoint of endpoints) {
    const match = endpoint.match(path);
    if (match && 'params' in match) return { endpoint, params: match.params };
    if (match) return match;
  }
  const known = endpoints.map((endpoint) => endpoint.path).join(', ');
  return { status: 404, reason: `There is no WebSocket endpoint at ${clip(pathname)}. This server has: ${known}.` };
}
