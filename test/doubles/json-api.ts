/**
 * A JSON API on a random local port, for the http bridge's tests. Routes are
 * functions of the request; what the API received is recorded. Conditional
 * GETs follow RFC 9110 literally: If-None-Match is compared with the current
 * ETag (and wins over If-Modified-Since), If-Modified-Since with the current
 * Last-Modified; a match is a 304 with no body.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Route = (request: Received, response: ServerResponse) => void;

/** A resource that answers GET with its JSON, its validators, and 304 when the client has it already. */
export function resource(state: { json: unknown; etag?: string; lastModified?: string }): Route {
  return (request, response) => {
    const { etag, lastModified } = state;
    const ifNoneMatch = request.headers['if-none-match'];
    const ifModifiedSince = request.headers['if-modified-since'];
    const validators: Record<string, string> = {};
    if (etag) validators.etag = etag;
    if (lastModified) validators['last-modified'] = lastModified;
    const fresh = ifNoneMatch !== undefined ? etag !== undefined && ifNoneMatch === etag : ifModifiedSince !== undefined && lastModified !== undefined && Date.parse(ifModifiedSince) >= Date.parse(lastModified);
    if (fresh) {
      response.writeHead(304, validators).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', ...validators }).end(JSON.stringify(state.json));
  };
}

export async function jsonApi(t: TestContext, routes: Record<string, Route>) {
  const received: Received[] = [];
  const held = new Set<ServerResponse>();
  let changed: (() => void) | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      const path = req.url ?? '/';
      const request: Received = { method: req.method ?? 'GET', path, headers: req.headers, body };
      received.push(request);
      const route = routes[path.split('?')[0] ?? '/'];
      if (route) route(request, res);
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such route"}');
      changed?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const response of held) response.destroy();
    server.closeAllConnections();
    server.close();
  });
  return {
    url: (path: string) => `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`,
    received,
    /** Requests to a path (without its query). */
    to: (path: string) => received.filter((request) => request.path.split('?')[0] === path),
    /** A route that never answers until released (for timeouts and in-flight limits). */
    hold: (): Route => (_request, response) => void held.add(response),
    /** Answers every held request with this JSON. */
    release(json: unknown) {
      for (const response of held) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      held.clear();
    },
    heldCount: () => held.size,
    /** Waits until `count` requests matching `which` were received. */
    async until(count: number, which: (request: Received) => boolean = () => true) {
      const deadline = Date.now() + 10_000;
      while (received.filter(which).length < count) {
        if (Date.now() > deadline) throw new Error(`the API did not receive ${count} requests within 10 s (got ${received.filter(which).length})`);
        await new Promise<void>((resolve) => {
          changed = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}
