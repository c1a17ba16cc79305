/**
 * Answers to plain HTTP requests: short pages for people who opened a
 * WebSocket address in a browser (or typed http:// into Resonite), and
 * /healthz for tools. Pages are HTML for browsers and plain text otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { EndpointUrl } from './urls.js';

export interface Page {
  status: number;
  title: string;
  paragraphs: string[];
  urls: EndpointUrl[];
  headers?: Record<string, string>;
}

export function sendPage(req: IncomingMessage, res: ServerResponse, page: Page): void {
  const html = (req.headers.accept ?? '').includes('text/html');
  const body = html ? pageHtml(page) : pageText(page);
  res.writeHead(page.status, {
    'Content-Type': html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...page.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(data);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Refuses a WebSocket handshake with a plain-text HTTP answer, at once: a hanging handshake stalls Resonite. */
export function refuseUpgrade(socket: Socket, status: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
    // Once written, the socket is freed: a client that never closes its side cannot keep it open.
    () => socket.destroy(),
  );
}

function pageText(page: Page): string {
  const lines = [page.title, '', ...page.paragraphs.flatMap((p) => [p, ''])];
  if (page.urls.length > 0) {
    lines.push('WebSocket URLs on this server:');
    // An example only where it adds something (a URL with a placeholder); never the URL itself again.
    for (const { url, example, summary } of page.urls) lines.push(`  ${url}  ${summary}${example === url ? '' : `  (e.g. ${example})`}`);
  }
  return `${lines.join('\n')}\n`;
}

function pageHtml(page: Page): string {
  const urls = page.urls
    .map(
      ({ url, example, summary }) =>
        `<li><code>${escapeHtml(url)}</code> ${escapeHtml(summary)}${example === url ? '' : `, e.g. <code>${escapeHtml(example)}</code>`}</li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#eee;padding:.1rem .3rem;border-radius:.2rem}</style>
</head><body><h1>${escapeHtml(page.title)}</h1>
${page.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${urls ? `<h2>WebSocket URLs on this server</h2><ul>${urls}</ul>` : ''}
</body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
