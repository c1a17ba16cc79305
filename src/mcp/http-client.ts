/**
 * The HTTP API of a resobridge server (docs/bridges.md, "HTTP in"), for
 * `resobridge mcp`: the token goes in an Authorization header (never in a URL,
 * so it is in no log), and a server that cannot be reached is an Unreachable
 * error that says what to check, never a crash.
 */
import { Unreachable, type Answer, type ResobridgeApi } from './api.js';

/** Longest one request may take, beyond a wait's own timeout (a server that accepts and never answers). */
const REQUEST_MS = 15_000;

export class HttpApiClient implements ResobridgeApi {
  private readonly base: URL;

  constructor(
    base: string,
    private readonly token: string | undefined,
  ) {
    this.base = new URL(base.endsWith('/') ? base : `${base}/`);
  }

  channels(): Promise<Answer> {
    return this.request('GET', 'channels');
  }

  members(channel: string): Promise<Answer> {
    return this.request('GET', `channels/${encodeURIComponent(channel)}/members`);
  }

  history(channel: string, limit: number): Promise<Answer> {
    return this.request('GET', `channels/${encodeURIComponent(channel)}/history`, { limit: String(limit) });
  }

  next(channel: string, seconds: number, signal: AbortSignal): Promise<Answer> {
    return this.request('GET', `channels/${encodeURIComponent(channel)}/next`, { timeout: String(seconds) }, undefined, signal, seconds * 1000);
  }

  publish(channel: string, text: string, name: string | undefined): Promise<Answer> {
    return this.request('POST', `publish/${encodeURIComponent(channel)}`, name === undefined ? {} : { name }, JSON.stringify({ text }));
  }

  getKey(ns: string, key: string): Promise<Answer> {
    return this.request('GET', `kv/${encodeURIComponent(key)}`, { ns });
  }

  setKey(ns: string, key: string, value: string): Promise<Answer> {
    return this.request('PUT', `kv/${encodeURIComponent(key)}`, { ns }, value);
  }

  deleteKey(ns: string, key: string): Promise<Answer> {
    return this.request('DELETE', `kv/${encodeURIComponent(key)}`, { ns });
  }

  listKeys(ns: string, prefix: string): Promise<Answer> {
    return this.request('GET', 'kv', { ns, prefix });
  }

  connections(): Promise<Answer> {
    return this.request('GET', 'connections');
  }

  private async request(method: string, path: string, query: Record<string, string> = {}, body?: string, signal?: AbortSignal, waitMs = 0): Promise<Answer> {
    const url = new URL(path, this.base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (method === 'POST') headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(REQUEST_MS + waitMs);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      throw new Unreachable(unreachable(this.base, error, timeout.aborted));
    }
    const text = await response.text();
    if (!(response.headers.get('content-type') ?? '').includes('application/json')) return { status: response.status, body: text };
    try {
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return { status: response.status, body: text };
    }
  }
}

function unreachable(base: URL, error: unknown, timedOut: boolean): string {
  const where = base.origin;
  if (timedOut) return `resobridge at ${where} did not answer in time; check that it is running and not overloaded`;
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code === 'ECONNREFUSED') return `cannot reach resobridge at ${where}: nothing is listening there. Start it (resobridge serve) or fix --url`;
  if (code?.includes('CERT') || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `cannot reach resobridge at ${where}: its certificate is not trusted (${code}). Use a certificate from a public CA, or start with NODE_EXTRA_CA_CERTS=<your CA file>`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach resobridge at ${where}: that host name does not resolve; fix --url`;
  return `cannot reach resobridge at ${where}: ${code ?? (error as Error).message}. Check that it is running and that --url is right`;
}
