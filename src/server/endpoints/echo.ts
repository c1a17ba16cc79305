import type { Endpoint } from '../endpoint.js';

/** `/echo`: sends every text message straight back. The first thing to try from a world. */
export const echoEndpoint: Endpoint = {
  kind: 'echo',
  path: '/echo',
  example: '/echo',
  summary: 'sends every message straight back: the first test from a world',
  options: {},
  match: (pathname) => (pathname === '/echo' ? { params: {} } : undefined),
  open: ({ connection }) => ({
    message: (text) => connection.send(text),
    close: () => {},
  }),
};
