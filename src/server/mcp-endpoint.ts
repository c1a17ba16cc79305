/**
 * `/mcp` (setting `mcp`, off by default): the agent tools of `resobridge mcp`
 * served by the server itself over MCP's Streamable HTTP, stateless (each POST
 * is a whole exchange, answered as JSON). The caller's token decides what the
 * tools may do, exactly as on the HTTP API, and:
 *   - with no tokens configured, only callers on this computer (loopback) are answered;
 *   - a request from a web page (an Origin) is refused unless it is an allowed
 *     origin, and the Host must be loopback on an open server (DNS rebinding),
 *     as for the dashboard and the API (browser-guard.ts);
 *   - each request takes from its address's inbound allowance.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { localApi } from '../mcp/local-api.js';
import { createMcpServer } from '../mcp/server.js';
import { browserRefusal, corsOrigin } from './browser-guard.js';
import { clientAddress } from './handshake.js';
import { logRefusal, readBody, requestToken, TooLarge, type HttpApiContext } from './http-api.js';
import { sendJson } from './http-pages.js';
import { isLoopback } from './urls.js';

export const MCP_PATH = '/mcp';

/** Room for a JSON-RPC envelope around a message of maxMessageBytes, even with every character escaped. */
const bodyLimit = (maxMessageBytes: number): number => maxMessageBytes * 6 + 16_384;

/** Answers a request for /mcp (on or off). */
export async function serveMcp(req: IncomingMessage, res: ServerResponse, url: URL, context: HttpApiContext, enabled: boolean): Promise<void> {
  const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
    logRefusal(req, url, status, error, context.log);
    // JSON-RPC shaped, so an MCP client shows the sentence.
    sendJson(req, res, status, { jsonrpc: '2.0', error: { code: -32000, message: error }, id: null }, headers);
  };
  if (!enabled) return refuse(404, 'The MCP endpoint is off on this server. Start it with --mcp (or mcp: true in the config file); see docs/agents.md.');
  const address = clientAddress(req, req.socket, context.trustProxy);
  const limited = context.limits.request(address);
  if (limited) {
    const seconds = Math.max(1, Math.ceil(limited.waitMs / 1000));
    return refuse(429, `you are sending ${limited.over}; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
  }
  const allowOrigin = corsOrigin(req, context.browser);
  if (allowOrigin) res.setHeader('Access-Control-Allow-Origin', allowOrigin);
  res.setHeader('Vary', 'Origin');
  const fromPage = browserRefusal(req, context.browser);
  if (fromPage) return refuse(403, fromPage);
  if (allowOrigin && req.method === 'OPTIONS') {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id',
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return;
  }
  if (context.access.open && !isLoopback(address)) {
    return refuse(403, 'This server has no tokens, so its MCP endpoint answers only programs on the same computer. Configure tokens (docs/security.md) to use it from elsewhere.');
  }
  const auth = context.access.authenticate(requestToken(req, url));
  if (!auth.ok) return refuse(auth.status, auth.reason.replace('Add ?token=YOUR-TOKEN to the URL', 'Send Authorization: Bearer YOUR-TOKEN'));
  // Stateless: no session to stream on (GET) or end (DELETE).
  if (req.method !== 'POST') return refuse(405, 'This MCP endpoint is stateless: send each JSON-RPC request as a POST.', { Allow: 'POST' });
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, bodyLimit(context.maxMessageBytes)));
  } catch (error) {
    if (error instanceof TooLarge) return refuse(413, `the request is over ${bodyLimit(context.maxMessageBytes)} bytes`);
    return refuse(400, 'the body is not JSON: send a JSON-RPC request');
  }
  const who = [`address:${address}`, ...(auth.grant.name === 'anonymous' ? [] : [`token:${auth.grant.name}`])];
  const server = createMcpServer(localApi(context.operations, auth.grant, who), { name: auth.grant.name === 'anonymous' ? 'agent' : undefined });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.once('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}
