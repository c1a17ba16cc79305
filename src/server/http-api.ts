/**
 * HTTP into the hub and the store, for apps and scripts that do not speak
 * WebSocket (curl, webhooks from other services, `resobridge mcp`):
 *   POST /publish/<channel>   body: the text (or JSON {"text": "…"}); ?name= sets the sender name
 *   GET /kv/<key>             the value as text/plain, 404 if none   (?ns= picks the namespace)
 *   PUT /kv/<key>             body: the value; watchers are told
 *   DELETE /kv/<key>
 *   GET /kv?prefix=           the keys that start with prefix
 *   GET /channels             channels with members on this node, and who is in them
 *   GET /channels/<c>/members who is in a channel (on every node)
 *   GET /channels/<c>/history?limit=   its last messages
 *   GET /channels/<c>/next?timeout=    waits for its next message (a long-poll)
 *   GET /connections          this node's open WebSocket connections
 * With tokens configured: `Authorization: Bearer <token>` or `?token=`, with the
 * same scopes as WebSocket clients (channel:<pattern> to publish and read, api /
 * api:r for keys, connections to list connections). ApiOperations checks them.
 * Each request takes from its address's inbound allowance (addressInboundRate), shared
 * with that address's WebSocket messages; over it: 429 with Retry-After.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clip } from '../protocol/clip.js';
import type { Logger } from 'pino';
import type { Access, Grant } from '../auth/access.js';
import { RequestError } from '../protocol/request-error.js';
import { QuotaError } from '../store/quota.js';
import { StorageFailure } from '../store/store.js';
import { sendJson } from './http-pages.js';
import { clientAddress } from './handshake.js';
import type { InboundLimits } from './inbound-limits.js';
import { DEFAULT_NAMESPACE } from './query-options.js';
import { DEFAULT_HISTORY, DEFAULT_WAIT_SECONDS, fail, type ApiOperations, type Reply } from './api-operations.js';
import { redactPath, redactReason } from '../util/redact-url.js';
import { browserRefusal, corsOrigin, type BrowserPolicy } from './browser-guard.js';

export interface HttpApiContext {
  access: Access;
  operations: ApiOperations;
  maxMessageBytes: number;
  limits: InboundLimits;
  trustProxy: boolean;
  /** Which web pages may call the API from a browser. */
  browser: BrowserPolicy;
  log: Logger;
}

/** The API's paths: each answers JSON (or text for a key's value) and needs a token when tokens are configured. */
const API_PATH = /^\/(publish\/[^/]+|kv(\/.*)?|channels(\/[^/]+\/(members|history|next))?|connections)$/;

/** Answers the request if it is an API path; false if it is not one. */
export async function httpApi(req: IncomingMessage, res: ServerResponse, url: URL, context: HttpApiContext): Promise<boolean> {
  if (!API_PATH.test(url.pathname)) return false;
  const address = clientAddress(req, req.socket, context.trustProxy);
  const limited = context.limits.request(address);
  if (limited) {
    const seconds = Math.max(1, Math.ceil(limited.waitMs / 1000));
    const error = `you are sending ${limited.over}; try again in ${seconds} s`;
    logRefusal(req, url, 429, error, context.log);
    sendJson(req, res, 429, { ok: false, error }, { 'Retry-After': String(seconds) });
    return true;
  }
  const allowOrigin = corsOrigin(req, context.browser);
  if (allowOrigin) res.setHeader('Access-Control-Allow-Origin', allowOrigin);
  res.setHeader('Vary', 'Origin');
  const fromPage = browserRefusal(req, context.browser);
  if (!fromPage && allowOrigin && req.method === 'OPTIONS') {
    preflight(res);
    return true;
  }
  let reply: Reply;
  try {
    const grant = fromPage ? fail(403, fromPage) : authenticate(req, url, context.access);
    reply = 'status' in grant ? grant : await answer(req, res, url, grant, address, context);
  } catch (error) {
    if (error instanceof URIError) reply = fail(400, 'the path has a malformed %-escape');
    else if (error instanceof TooLarge) reply = fail(413, error.message);
    else if (error instanceof QuotaError) reply = fail(507, error.message);
    else if (error instanceof StorageFailure) reply = fail(503, error.message);
    else if (error instanceof RequestError) reply = fail(400, error.message);
    else {
      context.log.error({ err: error, method: req.method, path: redactPath(url.pathname) }, 'http request failed');
      reply = fail(500, 'the server failed to handle that; see its log');
    }
  }
  // A long-poll whose caller hung up: no one to answer, nothing refused.
  if (res.destroyed) return true;
  if (reply.status >= 400 && reply.status !== 404 && typeof reply.body !== 'string') {
    logRefusal(req, url, reply.status, String(reply.body.error), context.log);
  }
  if (typeof reply.body === 'string') {
    res.writeHead(reply.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(reply.body);
  } else {
    sendJson(req, res, reply.status, reply.body);
  }
  return true;
}

/** A refused HTTP request, with why (the same sentence the client got), for the server log. */
export function logRefusal(req: IncomingMessage, url: URL, status: number, reason: string, log: Logger): void {
  const path = redactPath((req.url ?? '/').split('?')[0] ?? '/');
  log.info({ method: req.method, path, remote: req.socket.remoteAddress, status, reason: redactReason(reason, url.pathname, path) }, 'http request refused');
}

/** A browser asks first whether a page on an allowed origin may send this (PUT, JSON bodies, Authorization). */
function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, DELETE',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** The token of a plain HTTP request: `Authorization: Bearer …`, or `?token=`. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('token') ?? undefined;
}

function authenticate(req: IncomingMessage, url: URL, access: Access): Grant | Reply {
  const result = access.authenticate(requestToken(req, url));
  return result.ok ? result.grant : fail(result.status, result.reason.replace('Add ?token=YOUR-TOKEN to the URL', 'Send Authorization: Bearer YOUR-TOKEN (or ?token=)'));
}

/** Runs the operation the path names; `res` only to notice a long-poll's caller going away. */
async function answer(req: IncomingMessage, res: ServerResponse, url: URL, grant: Grant, address: string, context: HttpApiContext): Promise<Reply> {
  const { operations } = context;
  const [, first = '', second, third] = url.pathname.split('/');
  const reading = req.method === 'GET' || req.method === 'HEAD';
  if (first === 'publish') return publishTo(decodeURIComponent(second ?? ''), req, url, grant, context);
  if (first === 'kv') return keyValue(decodeURIComponent(url.pathname.slice('/kv/'.length)), req, url, grant, context);
  if (!reading) return fail(405, `use GET on ${clip(url.pathname)}`);
  if (first === 'connections') return operations.connections(grant);
  if (second === undefined) return operations.channels(grant);
  const channel = decodeURIComponent(second);
  switch (third) {
    case 'members':
      return operations.members(grant, channel);
    case 'history':
      return operations.history(grant, channel, numberParameter(url, 'limit', DEFAULT_HISTORY));
    default: {
      // Ends (and gives its slot back) as soon as the caller hangs up.
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      const who = [`address:${address}`, ...(grant.name === 'anonymous' ? [] : [`token:${grant.name}`])];
      return operations.next(grant, channel, numberParameter(url, 'timeout', DEFAULT_WAIT_SECONDS), who, gone.signal);
    }
  }
}

/** `?name=<number>`, or the default when absent; NaN (refused by the operation) when it is not a number. */
function numberParameter(url: URL, name: string, fallback: number): number {
  const text = url.searchParams.get(name);
  return text === null || text === '' ? fallback : Number(text);
}

async function publishTo(channel: string, req: IncomingMessage, url: URL, grant: Grant, context: HttpApiContext): Promise<Reply> {
  if (req.method !== 'POST') return fail(405, `use POST to publish to /publish/${clip(channel)}`);
  const refused = context.operations.refusePublish(grant, channel);
  if (refused) return refused;
  const body = await readBody(req, context.maxMessageBytes);
  let text = body;
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      return fail(400, 'the body is not valid JSON; send {"text": "…"} or plain text');
    }
    const value = (data as { text?: unknown } | null)?.text;
    if (typeof value !== 'string') return fail(400, 'send {"text": "…"}: "text" must be a string');
    text = value;
  }
  return context.operations.publish(grant, channel, text, url.searchParams.get('name') ?? undefined);
}

async function keyValue(key: string, req: IncomingMessage, url: URL, grant: Grant, context: HttpApiContext): Promise<Reply> {
  const { operations } = context;
  const ns = url.searchParams.get('ns') ?? DEFAULT_NAMESPACE;
  if (key === '') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'use GET on /kv?prefix= to list keys, or name a key: /kv/<key>');
    return operations.listKeys(grant, ns, url.searchParams.get('prefix') ?? '');
  }
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return operations.getKey(grant, ns, key);
    case 'PUT': {
      // Checked before the body is read: a refused request costs nothing more.
      const refused = operations.refuseKeys(grant, ns, 'write');
      if (refused) return refused;
      return operations.setKey(grant, ns, key, await readBody(req, context.maxMessageBytes));
    }
    case 'DELETE':
      return operations.deleteKey(grant, ns, key);
    default:
      return fail(405, 'use GET, PUT or DELETE on /kv/<key>');
  }
}

export class TooLarge extends Error {}

/** The body as text, up to maxBytes (the message size limit); past that, 413. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Keep reading (and discarding), so the 413 answer reaches the client.
        chunks.length = 0;
        reject(new TooLarge(`the body is over ${maxBytes} bytes, this server's message size limit`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
