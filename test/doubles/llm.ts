/**
 * A double of an OpenAI-compatible chat completions server (Ollama, LM Studio,
 * llama.cpp), answering as ../shared/APPS.md documents it:
 *   POST /v1/chat/completions {"model","messages","stream":true}
 *   → text/event-stream, one `data: {"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`
 *     frame per piece, the last with "finish_reason":"stop", then `data: [DONE]`;
 *   errors as 4xx/5xx with {"error":{"message":"…","type":"…"}}.
 * Each request is answered by a plan the test picks (by default: "echo: <question>"
 * in pieces of three characters); every request is recorded.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
  [other: string]: unknown;
}

export interface Recorded {
  body: ChatBody;
  authorization: string | undefined;
  /** Resolves when the client went away (it aborted, or the answer ended). */
  closed: Promise<void>;
  /** True once the client closed the connection before the answer ended. */
  aborted: boolean;
}

export type Plan =
  /** The pieces, each one frame; all in one write, or `gapMs` apart (a slow model). */
  | { kind: 'stream'; pieces: string[]; gapMs?: number }
  /** An HTTP error with the OpenAI error body. */
  | { kind: 'error'; status: number; message: string; type?: string }
  /** The pieces, then (once `after` resolves: the client has read them) the connection is cut: no finish_reason, no [DONE]. */
  | { kind: 'break'; pieces: string[]; after: Promise<void> }
  /** The pieces, then nothing more, ever (until the test ends). */
  | { kind: 'hang'; pieces: string[] }
  /** The pieces, then waits for `release` before the last frame and [DONE]. */
  | { kind: 'held'; pieces: string[]; release: Promise<void> };

/** "echo: <the last user message>" in pieces of three characters. */
export function echoPlan(body: ChatBody): Plan {
  const question = body.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  return { kind: 'stream', pieces: piecesOf(`echo: ${question}`, 3) };
}

/** `size` characters a piece (whole code points: a model's tokens never split one). */
export function piecesOf(text: string, size: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(''));
  return pieces;
}

export function frame(content: string | undefined, finish: string | null): string {
  const delta = content === undefined ? {} : { content };
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

export async function startLlmDouble(t: TestContext, plan: (body: ChatBody, index: number) => Plan = echoPlan) {
  const requests: Recorded[] = [];
  /** The GET /v1/models requests (a client checking that the server is there). */
  const probes: { authorization: string | undefined }[] = [];
  let wake: (() => void) | undefined;
  const server = createServer((req, res) => {
    void serve(req, res);
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    if (req.method === 'GET' && req.url === '/v1/models') {
      probes.push({ authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'tiny', object: 'model', owned_by: 'double' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'not_found' } }));
      return;
    }
    const body = JSON.parse(text) as ChatBody;
    const recorded: Recorded = { body, authorization: req.headers.authorization, aborted: false, closed: once(res, 'close').then(() => {}) };
    res.on('close', () => (recorded.aborted = !res.writableFinished));
    requests.push(recorded);
    wake?.();
    const step = plan(body, requests.length - 1);
    if (step.kind === 'error') {
      res.writeHead(step.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: step.message, type: step.type ?? 'invalid_request_error' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const frames = step.pieces.map((piece) => frame(piece, null));
    if (step.kind === 'stream' && step.gapMs) {
      for (const one of frames) {
        if (res.destroyed) return;
        res.write(one);
        await new Promise((resolve) => setTimeout(resolve, step.gapMs));
      }
    } else {
      res.write(frames.join(''));
    }
    if (step.kind === 'break') {
      await step.after;
      res.socket?.destroy();
      return;
    }
    if (step.kind === 'hang') return;
    if (step.kind === 'held') await step.release;
    if (res.destroyed) return;
    res.end(`${frame(undefined, 'stop')}data: [DONE]\n\n`);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
    requests,
    probes,
    /** Waits until `count` requests have arrived. */
    async received(count: number): Promise<Recorded[]> {
      while (requests.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return requests;
    },
  };
}
