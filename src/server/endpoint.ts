/**
 * An endpoint is what a URL path does: `/echo`, `/channel/<name>`, and later
 * command mode and custom ones. The server handles the socket, limits and
 * query options; the endpoint only sees text in and sends text out.
 */
import type { Client } from '../app/client.js';
import { commonOptions, type QueryOption, type QueryValues } from './query-options.js';

/** What a connection does with each text message; created when it connects. */
export interface Session {
  message(text: string): void;
  close(): void;
}

export type PathMatch =
  /** This endpoint serves the path; `params` are named parts of it. */
  | { params: Record<string, string> }
  /** The path is this endpoint's, but wrong: refuse the handshake with this HTTP status. */
  | { status: number; reason: string }
  /** Not this endpoint's path. */
  | undefined;

type Options = Record<string, QueryOption<unknown>>;

export interface Endpoint<S extends Options = Options> {
  /** What access it needs (see auth/scopes.ts) and which endpointRates entry paces it. */
  kind: 'echo' | 'channel' | 'api' | 'custom';
  /** The path as people write it, e.g. `/channel/<name>`. */
  path: string;
  /** A path with options that works as is, e.g. `/channel/lobby?presence=1`. */
  example: string;
  /** One line: what it does. */
  summary: string;
  /** Query options it understands besides the common ones (`name`). */
  options: S;
  /** Options it does not list are passed on (e.g. to a program), not reported as unknown. */
  acceptsAnyOption?: boolean;
  match(pathname: string): PathMatch;
  open(client: Client, params: Record<string, string>, options: QueryValues<S & typeof commonOptions>): Session;
}
