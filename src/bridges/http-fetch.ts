/**
 * One HTTP exchange for the http bridge, within limits: the whole exchange
 * (headers and body) must end within a time limit, and the body is read
 * chunk by chunk and abandoned as soon as it passes a size limit, so a slow
 * or huge answer never ties up memory or the bridge. A failure is an
 * HttpFailure whose text is fit for a world and the log: it names the
 * method, status or cause, never a header or the URL's query.
 */

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The body as UTF-8 text. */
  text: string;
}

export interface HttpLimits {
  timeoutMs: number;
  maxBytes: number;
  /** Aborts the exchange (the bridge stopping). */
  signal?: AbortSignal;
}

/** Statuses fetch would follow (304 Not Modified is an answer, not a redirect). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A status fetch would follow; with redirect: 'manual' it is handed over instead (a bridge follows none). */
export function isRedirectStatus(status: number | undefined): boolean {
  return status !== undefined && REDIRECTS.has(status);
}

/** Why an exchange failed, and whether trying again may help (the peer was away or overloaded). */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** Sends one request; answers any status (the caller decides what a 4xx or 5xx means), throws HttpFailure when there is no usable answer. */
export async function exchange(url: string, init: RequestInit, limits: HttpLimits): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const tooLarge = new AbortController();
  const signal = AbortSignal.any([timeout, tooLarge.signal, ...(limits.signal ? [limits.signal] : [])]);
  const tooBig = () => new HttpFailure(`the answer is over ${limits.maxBytes} bytes (maxResponseBytes)`, false);
  try {
    // Redirects are not followed: fetch would take the secret headers along to wherever one points (it drops only Authorization).
    const response = await fetch(url, { ...init, signal, redirect: 'manual' });
    if (isRedirectStatus(response.status)) {
      await response.body?.cancel().catch(() => {});
      throw new HttpFailure(`the API answered ${response.status} (a redirect); it is not followed, so the headers go nowhere else: put the address it points to in the bridge's url`, false);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limits.maxBytes) {
      tooLarge.abort();
      throw tooBig();
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > limits.maxBytes) {
          tooLarge.abort();
          await reader.cancel().catch(() => {});
          throw tooBig();
        }
        chunks.push(value);
      }
    }
    return { status: response.status, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
  } catch (error) {
    if (error instanceof HttpFailure) throw error;
    if (limits.signal?.aborted) throw new HttpFailure('the bridge stopped', false);
    if (timeout.aborted) throw new HttpFailure(`no answer within ${limits.timeoutMs} ms (timeoutMs)`, true);
    throw new HttpFailure(`the server could not be reached (${causeOf(error)})`, true);
  }
}

/**
 * fetch's own message is "fetch failed"; the cause (ECONNREFUSED, ENOTFOUND, …) says more.
 * Without a cause the request itself was refused (a bad header value, say): its message may
 * quote that value, a secret perhaps, so only the error's name is given.
 */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return `${(error as Error).name ?? 'Error'} before sending`;
}
