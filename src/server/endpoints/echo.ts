import type { Connection } from '../connection.js';
import type { Endpoint, Session } from '../endpoint.js';

/** The echo path has no parameters: one match object for every client. */
const ECHO_MATCH = Object.freeze({ params: Object.freeze({}) });

/** `/echo`: sends every text message straight back. The first thing to try from a world. */
export const echoEndpoint: Endpoint = {
  kind: 'echo',
  path: '/echo',
  example: '/echo',
  summary: 'sends every message straight back: the first test from a world',
  options: {},
  match: (pathname) => (pathname === '/echo' ? ECHO_MATCH : undefined),
  open: ({ connection }) => new EchoSession(connection),
};

/** A class, not closures: one small object per echo client (there may be 10,000). */
class EchoSession implements Session {
  constructor(private readonly connection: Connection) {}

  message(text: string): void {
    this.connection.send(text);
  }

  close(): void {}
}
