/**
 * HTTP into the hub and the store, for apps and scripts that do not speak
 * WebSocket (curl, webhooks from other services):
 *   POST /publish/<channel>   body: the text (or JSON {"text": "…"}); ?name= sets the sender name
 *   GET /kv/<key>             the value as text/plain, 404 if none   (?ns= picks the namespace)
 *   PUT /kv/<key>             body: the value; watchers are told
 *   DELETE /kv/<key>
 * With tokens configured: `Authorization: Bearer <token>` or `?token=`, with the
 * same scopes as WebSocket clients (channel:<pattern> to publish, api / api:r for keys).
 * Each request takes from its address's inbound allowance (addressInboundRate), shared
 * with that address's WebSocket messages; over it: 429 with Retry-After.
 */
import { clip } from '../protocol/clip.js';
import { ownCopy } from '../util/own-copy.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { mayChannel, mayUse, mayWriteKeys, type Access, type Grant } from '../auth/access.js';
import type { Hub } from '../hub/hub.js';
import { RequestError } from '../protocol/request-error.js';
import type { KeyValue } from '../store/keyvalue.js';
import { QuotaError } from '../store/quota.js';
import { StorageFailure } from '../store/store.js';
import { CHANNEL_NAME, CHANNEL_NAME_RULE } from './endpoints/channel.js';
import { sendJson } from './http-pages.js';
import { NAME_RULE } from '../protocol/names.js';
import { reservedReason, reservedTag } from '../protocol/reserved.js';
import { clientAddress } from './handshake.js';
import type { InboundLimits } from './inbound-limits.js';
import { DEFAULT_NAMESPACE, NAMESPACE } from './query-options.js';
import { redactPath, redactReason } from '../util/redact-url.js';
import { browserRefusal, corsOrigin, type BrowserPolicy } from './browser-guard.js';

export interface HttpApiContext {
  access: Access;
  hub: Hub;
  keyvalue: () => KeyValue | undefined;
  maxMessageBytes: number;
  limits: InboundLimits;
  trustProxy: boolean;
  /** Which web pages may call the API from a browser. */
  browser: BrowserPolicy;
  log: Logger;
}

type Reply = { status: number; body: Record<string, unknown> | string };

const fail = (status: number, error: string): Reply => ({ status, body: { ok: false, error } });

/** Answers the request if it is an API path; false if it is not one. */
export async function httpApi(req: IncomingMessage, res: ServerResponse, url: URL, context: HttpApiContext): Promise<boolean> {
  const publish = /^\/publish\/([^/]+)$/.exec(url.pathname);
  const kv = /^\/kv\/(.+)$/.exec(url.pathname);
  if (!publish && !kv) return false;
  const limited = context.limits.request(clientAddress(req, req.socket, context.trustProxy));
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
    if ('status' in grant) reply = grant;
    else if (publish) reply = await publishTo(decodeURIComponent(publish[1] ?? ''), req, url, grant, context);
    else reply = await keyValue(decodeURIComponent(kv?.[1] ?? ''), req, url, grant, context);
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

async function publishTo(channel: string, req: IncomingMessage, url: URL, grant: Grant, context: HttpApiContext): Promise<Reply> {
  if (req.method !== 'POST') return fail(405, `use POST to publish to /publish/${clip(channel)}`);
  if (!CHANNEL_NAME.test(channel)) return fail(400, `"${clip(channel)}" is not a valid channel name: ${CHANNEL_NAME_RULE}`);
  if (!mayChannel(grant, channel, 'write')) {
    return fail(403, `the token "${grant.name}" may not publish to channel "${channel}": it needs the scope "channel:${channel}" (or a pattern that matches it) in its allow list`);
  }
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
  const reserved = reservedTag(text);
  if (reserved) return fail(400, reservedReason(reserved));
  // A copy: kept in history, a slice would keep the whole (up to 16 KB) name alive.
  const from = ownCopy(url.searchParams.get('name')?.slice(0, 64) ?? '') || (grant.name === 'anonymous' ? 'http' : grant.name);
  context.hub.publish({ type: 'message', channel, senderName: from, text });
  return { status: 200, body: { ok: true, channel } };
}

async function keyValue(key: string, req: IncomingMessage, url: URL, grant: Grant, context: HttpApiContext): Promise<Reply> {
  const store = context.keyvalue();
  if (!store) return fail(503, 'the server is starting or stopping; try again in a moment');
  const ns = url.searchParams.get('ns') ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE.test(ns)) return fail(400, `ns must be ${NAME_RULE}`);
  if (!mayUse(grant, { kind: 'api', path: '/api' })) return fail(403, `the token "${grant.name}" may not use keys: it needs the scope "api" (or "api:r" to read only) in its allow list`);
  switch (req.method) {
    case 'GET':
    case 'HEAD': {
      const value = await store.get(ns, key);
      return value === undefined ? fail(404, `no value for "${clip(key)}"`) : { status: 200, body: value };
    }
    case 'PUT':
    case 'DELETE': {
      if (!mayWriteKeys(grant)) return fail(403, `the token "${grant.name}" may only read keys: writing needs the scope "api" in its allow list`);
      if (req.method === 'DELETE') return { status: 200, body: { ok: true, deleted: await store.delete(ns, key) } };
      await store.set(ns, key, await readBody(req, context.maxMessageBytes));
      return { status: 200, body: { ok: true, key } };
    }
    default:
      return fail(405, 'use GET, PUT or DELETE on /kv/<key>');
  }
}

class TooLarge extends Error {}

/** The body as text, up to maxBytes (the message size limit); past that, 413. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
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
