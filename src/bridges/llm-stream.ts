/**
 * One streamed chat completion from an OpenAI-compatible server (Ollama,
 * LM Studio, llama.cpp's server, OpenAI itself):
 *   POST <url>/chat/completions {"model","messages","stream":true}
 * answered with Server-Sent Events, one `data: {"choices":[{"delta":{"content":"Hel"},
 * "finish_reason":null}]}` per piece, the last with a finish_reason, then
 * `data: [DONE]`. Errors come as 4xx/5xx with `{"error":{"message":"…"}}`.
 *
 * The SSE framing is read by eventsource-parser (already installed with the MCP
 * SDK): it handles what a hand-made line splitter tends to get wrong (CR, LF or
 * CRLF endings split across chunks, multi-line data, comments such as
 * `: keep-alive`, a BOM) and bounds one event's size.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { clip } from '../protocol/clip.js';
import { bodySummary } from '../util/body-summary.js';
import type { Secret } from './secret.js';
import { isRedirectStatus } from './http-fetch.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  /** The API base, e.g. http://127.0.0.1:11434/v1 (`/chat/completions` is added). */
  url: string;
  /** The URL as it may be shown (no password in it). */
  shownUrl: string;
  model: string;
  messages: ChatMessage[];
  apiKey?: Secret;
  temperature?: number;
  maxTokens?: number;
  /** Aborting it ends the request; streamChat then throws the signal's reason. */
  signal: AbortSignal;
}

/** Why a request failed, in words for a world and a log (never holding the API key: the caller scrubs it). */
export class ChatError extends Error {
  override name = 'ChatError';

  constructor(
    message: string,
    /** An HTTP status the server answered with, if that was the failure. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One SSE event may not hold more than this (a server that never ends a line cannot fill the memory). */
const MAX_EVENT_CHARS = 1_000_000;
/** Of an error body (or a non-streamed answer), this much is read. */
const MAX_BODY_BYTES = 1_000_000;

/**
 * Sends the request and calls `onText` with each piece of the answer as it
 * arrives. Resolves with the finish_reason ("stop", "length", …) once the
 * stream has ended properly; throws a ChatError if it did not, or the
 * signal's reason once it is aborted.
 */
export async function streamChat(request: ChatRequest, onText: (piece: string) => void): Promise<string> {
  const { signal } = request;
  const body: Record<string, unknown> = { model: request.model, messages: request.messages, stream: true };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', 'user-agent': 'resobridge-llm' };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey.reveal()}`;

  let response: Response;
  try {
    // Redirects are not followed: the question (and a key in a custom header) would go to whatever address the answer names.
    response = await fetch(`${request.url.replace(/\/+$/, '')}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal, redirect: 'manual' });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const cause = causeOf(error);
    // Connected, then cut before the answer began: the server is there but failed (crashed, or a proxy gave up).
    if (cause === 'UND_ERR_SOCKET') throw new ChatError(`the model server at ${request.shownUrl} closed the connection before answering (${cause})`);
    throw new ChatError(`the model server at ${request.shownUrl} cannot be reached (${cause}); is it running (ollama serve, LM Studio's server, llama-server)?`);
  }
  if (isRedirect(response)) {
    await response.body?.cancel();
    throw new ChatError(`the model server answered ${response.status} (a redirect); it is not followed: put the address it points to in the bridge's url`, response.status);
  }
  if (!response.ok) throw await httpError(response, request.model, signal);
  if (!response.body) throw new ChatError('the model server answered with no body');
  // A server that ignored stream:true sends the whole answer as one JSON object.
  if (response.headers.get('content-type')?.includes('application/json')) {
    const answer = parseJson(await readBody(response.body, signal));
    const text = (answer as Completion | undefined)?.choices?.[0]?.message?.content;
    if (typeof text !== 'string') throw new ChatError('the model server answered with JSON that holds no choices[0].message.content');
    onText(text);
    return (answer as Completion).choices?.[0]?.finish_reason ?? 'stop';
  }

  let finish: string | undefined;
  let ended = false;
  let failure: ChatError | undefined;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') failure ??= new ChatError(`the model server sent an event of more than ${MAX_EVENT_CHARS} characters; not an answer stream`);
    },
    onEvent: (event: EventSourceMessage) => {
      if (ended || failure) return;
      if (event.data === '[DONE]') {
        ended = true;
        return;
      }
      const chunk = parseJson(event.data) as Chunk | undefined;
      if (!chunk || typeof chunk !== 'object') {
        failure = new ChatError(`the model server sent something that is not an answer stream: ${clip(event.data, 120)}`);
        return;
      }
      if (chunk.error) {
        failure = new ChatError(`the model server reported an error mid-answer: ${errorText(chunk.error)}`);
        return;
      }
      const choice = chunk.choices?.[0];
      if (typeof choice?.delta?.content === 'string' && choice.delta.content !== '') onText(choice.delta.content);
      if (typeof choice?.finish_reason === 'string') finish = choice.finish_reason;
    },
  });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    while (!ended) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      if (failure) throw failure;
      if (signal.aborted) throw signal.reason;
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ChatError) throw error;
    throw new ChatError(`the model server broke off the answer (${causeOf(error)})`);
  } finally {
    reader.cancel().catch(() => {});
  }
  // Lenient: a finish_reason without [DONE] is a complete answer too (some servers end so).
  if (ended || finish !== undefined) return finish ?? 'stop';
  throw new ChatError('the model server closed the stream before the answer was complete');
}

/**
 * Is the server there? `GET <url>/models`, which every OpenAI-compatible server
 * answers (Ollama, LM Studio, llama.cpp): for the status at start, before any
 * question. Resolves undefined when it answered (whatever it lists: llama.cpp
 * serves the one model it loaded under any name), or the failure.
 */
export async function probe(request: Pick<ChatRequest, 'url' | 'shownUrl' | 'apiKey' | 'signal'>): Promise<ChatError | undefined> {
  const headers: Record<string, string> = { 'user-agent': 'resobridge-llm' };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey.reveal()}`;
  try {
    const response = await fetch(`${request.url.replace(/\/+$/, '')}/models`, { headers, signal: request.signal, redirect: 'manual' });
    await response.body?.cancel();
    if (isRedirect(response)) return new ChatError(`the model server answered ${response.status} (a redirect); it is not followed: put the address it points to in the bridge's url`, response.status);
    if (response.status === 401 || response.status === 403) {
      return new ChatError(`the model server answered ${response.status} ${response.statusText}; check the bridge's apiKey`, response.status);
    }
    return undefined;
  } catch (error) {
    if (request.signal.aborted) return new ChatError(`the model server at ${request.shownUrl} did not answer in time`);
    return new ChatError(`the model server at ${request.shownUrl} cannot be reached (${causeOf(error)}); is it running (ollama serve, LM Studio's server, llama-server)?`);
  }
}

interface Chunk {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  error?: unknown;
}

interface Completion {
  choices?: { message?: { content?: unknown }; finish_reason?: string }[];
}

/** `the model server answered 404: model "x" not found` (with a hint for the usual causes). */
async function httpError(response: Response, model: string, signal: AbortSignal): Promise<ChatError> {
  let text = '';
  try {
    text = response.body ? await readBody(response.body, signal) : '';
  } catch {
    if (signal.aborted) throw signal.reason;
  }
  const data = parseJson(text) as { error?: unknown } | undefined;
  const said = data && typeof data === 'object' && data.error !== undefined ? errorText(data.error) : bodySummary(text) || response.statusText;
  const { status } = response;
  const hint =
    status === 401 || status === 403
      ? '; check the bridge\'s apiKey'
      : status === 404
        ? `; check the url (it ends in /v1 for Ollama and LM Studio) and that the model "${clip(model)}" is there (ollama pull ${clip(model)})`
        : '';
  return new ChatError(`the model server answered ${status}: ${said}${hint}`, status);
}

/** `{"message":"…"}` (OpenAI) or a plain string (Ollama's native form). */
function errorText(error: unknown): string {
  const message = typeof error === 'string' ? error : (error as { message?: unknown } | null)?.message;
  return clip(typeof message === 'string' ? message : JSON.stringify(error) ?? 'an error', 300);
}

async function readBody(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<string> {
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      parts.push(value);
      bytes += value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(parts).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The system's reason (ECONNREFUSED, other side closed) behind fetch's "fetch failed" / "terminated". */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return clip(cause?.code ?? cause?.message ?? (error as Error | undefined)?.message ?? String(error), 120);
}

function isRedirect(response: Response): boolean {
  return isRedirectStatus(response.status);
}
