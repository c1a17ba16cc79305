/**
 * One answer, paced for a world: while the model writes, the text so far goes
 * out as `partial` at most once per `partialMs` (the latest text wins; the
 * pieces in between are never sent one by one), then `done` with the whole
 * answer, or `error` with why not. The answer is bounded in time (timeoutMs,
 * from the question to the last piece) and length (maxAnswerChars: past it the
 * request is aborted and the answer so far, cut there and ending in …, is the
 * answer).
 */
import { clip } from '../protocol/clip.js';
import { ChatError, streamChat, type ChatRequest } from './llm-stream.js';

export type AnswerState = 'partial' | 'done' | 'error';

/** Delivers one line of the answer; false when nobody is there to hear it any more (the request is then dropped). */
export type AnswerSink = (state: AnswerState, text: string) => boolean;

export interface AnswerLimits {
  maxAnswerChars: number;
  timeoutMs: number;
  /** 0: no partials, only the final answer. */
  partialMs: number;
}

/** How an answer ended: its text (done), or why not. */
export type AnswerOutcome =
  | { ok: true; text: string; cut: boolean }
  | { ok: false; why: string; failure?: ChatError; gone?: boolean };

/** Why the bridge itself ended a request. */
class Ended extends Error {
  constructor(readonly why: 'timeout' | 'long' | 'gone' | 'stopped') {
    super(why);
  }
}

export async function answer(
  request: Omit<ChatRequest, 'signal'>,
  limits: AnswerLimits,
  sink: AnswerSink,
  /** Aborted when the bridge stops. */
  stop: AbortSignal,
  /** Makes any text safe to show (removes the API key). */
  scrub: (text: string) => string,
): Promise<AnswerOutcome> {
  const controller = new AbortController();
  const end = (why: Ended['why']) => controller.abort(new Ended(why));
  const timer = setTimeout(() => end('timeout'), limits.timeoutMs);
  const onStop = () => end('stopped');
  if (stop.aborted) onStop();
  stop.addEventListener('abort', onStop, { once: true });
  const partials = new LatestEvery<string>(limits.partialMs, (text) => {
    if (!sink('partial', text)) end('gone');
  });
  let text = '';
  let cut = false;
  let failure: unknown;
  try {
    await streamChat({ ...request, signal: controller.signal }, (piece) => {
      if (controller.signal.aborted) return;
      text += piece;
      if (text.length > limits.maxAnswerChars) {
        text = clip(text, limits.maxAnswerChars);
        cut = true;
        end('long');
        return;
      }
      partials.offer(text);
    });
  } catch (error) {
    failure = controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
    partials.cancel();
  }
  if (failure === undefined || (failure instanceof Ended && failure.why === 'long')) {
    sink('done', text);
    return { ok: true, text, cut };
  }
  if (failure instanceof Ended && failure.why === 'gone') return { ok: false, why: 'the asker left', gone: true };
  const why =
    failure instanceof Ended
      ? failure.why === 'timeout'
        ? `no complete answer within ${limits.timeoutMs / 1000} s (timeoutMs); the model may still be loading or be too slow: ask again, or ask for something shorter`
        : 'the server is stopping'
      : failure instanceof ChatError
        ? scrub(failure.message)
        : scrub(`the request failed: ${(failure as Error | undefined)?.message ?? String(failure)}`);
  sink('error', why);
  return { ok: false, why, failure: failure instanceof ChatError ? failure : undefined };
}

/**
 * Calls `emit` with the latest offered value at most once per `everyMs`: the
 * first at once, later ones when their time comes (values offered meanwhile
 * replace each other). 0 emits nothing.
 */
export class LatestEvery<T> {
  private lastAt = -Infinity;
  private pending: { value: T } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly everyMs: number,
    private readonly emit: (value: T) => void,
    /** Milliseconds, monotonic (a test may hold it still). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  offer(value: T): void {
    if (this.everyMs === 0) return;
    const wait = this.lastAt + this.everyMs - this.now();
    if (wait <= 0 && this.timer === undefined) {
      this.lastAt = this.now();
      this.emit(value);
      return;
    }
    this.pending = { value };
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const pending = this.pending;
      this.pending = undefined;
      this.lastAt = this.now();
      if (pending) this.emit(pending.value);
    }, Math.max(1, wait));
  }

  /** Drops what waits (the answer is complete, or failed). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
