/**
 * `type: llm`: a local language model (Ollama, LM Studio, llama.cpp's server,
 * or any OpenAI-compatible endpoint) that worlds ask questions.
 *   Ask:    `ask|<question>` in the bridge's channel, or the command `ask|<question>`
 *           in command mode; `ask#7|…` carries an id that every answer line repeats.
 *   Answer: `ai|partial|<text so far>` a few times a second while the model writes,
 *           then `ai|done|<answer>`, or `ai|error|<why>` (`ai#7|…` with an id).
 *           Only the asker hears it (or the whole channel: answerTo: channel).
 * Each asker (or each channel) has a conversation memory, bounded by turns and
 * characters. Requests are bounded in number (per bridge and per asker), time
 * and answer length; past a bound the asker gets an error at once, nothing queues.
 * In a cluster each node answers the askers connected to it (configure the
 * bridge on every node).
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { arg } from '../app/args.js';
import type { CommandContext, Commands } from '../app/commands.js';
import { ConfigError } from '../config/errors.js';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership, Recipient } from '../hub/hub.js';
import { ThrottledLog } from '../log/throttled.js';
import { Message } from '../protocol/message.js';
import { parseRequest } from '../protocol/request.js';
import { redactUrl } from '../util/redact-url.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { bridgeName, channelName } from './bridge-spec.js';
import { answer, type AnswerSink, type AnswerState } from './llm-answer.js';
import { Conversations } from './llm-memory.js';
import { isRedirectStatus } from './http-fetch.js';
import { probe, type ChatMessage } from './llm-stream.js';
import { readSecret, SECRET, type Secret } from './secret.js';

const VERB = /^[a-z][a-z0-9_.-]{0,31}$/;

export const LLM_SPEC = z
  .object({
    type: z.literal('llm'),
    name: bridgeName.optional(),
    /** The OpenAI-compatible API base: Ollama's by default; LM Studio http://127.0.0.1:1234/v1, llama.cpp http://127.0.0.1:8080/v1. */
    url: z.string().regex(/^https?:\/\/.+/, 'url must start with http:// or https://, e.g. http://127.0.0.1:11434/v1').default('http://127.0.0.1:11434/v1'),
    model: z
      .string({ error: 'model is required: the name of the model to use, e.g. llama3.2 (`ollama list` shows yours)' })
      .min(1, 'model is the name of the model to use, e.g. llama3.2 (`ollama list` shows yours)'),
    /** The system prompt: who the model is in this world. */
    system: z.string().max(20_000, 'system is at most 20000 characters').optional(),
    /** Sent as `Authorization: Bearer …` (hosted endpoints; local servers need none). */
    apiKey: SECRET.optional(),
    /** Answer `ask|…` lines in this channel. */
    channel: channelName.optional(),
    /** The word a world asks with, in the channel and as a command. */
    verb: z.string().regex(VERB, 'verb is 1 to 32 lower-case letters, digits, dots, dashes or underscores, starting with a letter').default('ask'),
    /** Also answer the verb in command mode (/api). */
    command: z.boolean().default(true),
    /** Who hears an answer in the channel: the asker only, or everyone in it. */
    answerTo: z.enum(['asker', 'channel']).default('asker'),
    /** One conversation per asker, one per channel (everyone shares it), or none (each question on its own). */
    memory: z.enum(['asker', 'channel', 'none']).default('asker'),
    memoryTurns: z.number().int().min(0).max(1_000).default(10),
    memoryChars: z.number().int().min(0).max(1_000_000).default(8_000),
    /** Conversations kept at once; the one unused longest is forgotten first. */
    conversations: z.number().int().min(1).max(100_000).default(100),
    maxQuestionChars: z.number().int().min(1).max(100_000).default(1_000),
    maxAnswerChars: z.number().int().min(1).max(100_000).default(2_000),
    /** From the question to the end of the answer. */
    timeoutMs: z.number().int().min(10).max(3_600_000).default(60_000),
    /** Questions being answered at once by this bridge. */
    concurrent: z.number().int().min(1).max(1_000).default(2),
    /** Questions one asker may have open at once. */
    perAsker: z.number().int().min(1).max(100).default(1),
    /** Least time between two partial answers to one asker; 0 sends only the final answer. */
    partialMs: z
      .number()
      .int()
      .max(60_000)
      .refine((ms) => ms === 0 || ms >= 100, 'partialMs is 0 (no partial answers) or at least 100 (at most 10 a second: worlds cannot take more)')
      .default(250),
    temperature: z.number().min(0).max(2).optional(),
    /** The model's own bound on the answer, in tokens (max_tokens). */
    maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .refine((spec) => spec.channel !== undefined || spec.command, { message: 'an llm bridge needs a channel to answer in, command: true, or both' })
  .refine((spec) => spec.answerTo === 'asker' || spec.channel !== undefined, { message: 'answerTo: channel needs a channel', path: ['answerTo'] });
export type LlmSpec = z.infer<typeof LLM_SPEC>;

/** How long the check at start waits for the model server. */
const PROBE_TIMEOUT_MS = 5_000;

/** The tag of every answer line. */
export const ANSWER_TAG = 'ai';

interface Asker {
  /** Who, for the per-asker bound and the log (a display name or a connection). */
  key: string;
  /** Where the conversation is remembered. */
  memoryKey: string;
  /** Gets every line of the answer. */
  sink: AnswerSink;
  /** Gets a refusal (busy, a bad question): the asker only, even when answers go to the channel. */
  refuse: (why: string) => void;
}

export class LlmBridge implements Bridge {
  private readonly name: string;
  private readonly board: StatusBoard;
  private readonly apiKey: Secret | undefined;
  private readonly shownUrl: string;
  private readonly memory: Conversations;
  private readonly throttled: ThrottledLog;
  private membership: Membership | undefined;
  private stopper = new AbortController();
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly openPerAsker = new Map<string, number>();
  /** Connections whose memory is forgotten when they close (a listener each, added once). */
  private readonly watched = new WeakSet<object>();
  private seq = 0;

  constructor(
    private readonly spec: LlmSpec,
    private readonly hub: Hub,
    commands: Commands,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? (spec.channel ? `llm-${spec.channel}` : 'llm');
    this.board = new StatusBoard(this.name, 'llm');
    this.apiKey = spec.apiKey === undefined ? undefined : readSecret(spec.apiKey, `bridge "${this.name}": apiKey`);
    this.shownUrl = redactUrl(spec.url, 'the configured url');
    this.memory = new Conversations({ turns: spec.memoryTurns, chars: spec.memoryChars, conversations: spec.conversations });
    this.throttled = new ThrottledLog(log);
    if (spec.command) this.registerVerb(commands);
  }

  start(): void {
    this.running = true;
    this.stopper = new AbortController();
    this.board.set('connecting', `checking ${this.shownUrl}`);
    void this.check();
    const { channel } = this.spec;
    if (channel) this.membership = this.hub.listen(channel, this.name, (event, sender) => this.fromChannel(channel, event, sender));
  }

  /** Says at start whether the model server is there (the banner, /healthz); after that, each answer tells. */
  private async check(): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
    const onStop = () => controller.abort();
    this.stopper.signal.addEventListener('abort', onStop, { once: true });
    const failure = await probe({ url: this.spec.url, shownUrl: this.shownUrl, apiKey: this.apiKey, signal: controller.signal });
    clearTimeout(timer);
    this.stopper.signal.removeEventListener('abort', onStop);
    // A question may have been answered (or failed) meanwhile: it knows better.
    if (!this.running || this.board.get().state !== 'connecting') return;
    if (!failure) {
      this.board.set('connected', this.ready());
      return;
    }
    const why = this.scrub(failure.message);
    const needsFix = failure.status === 401 || failure.status === 403 || isRedirectStatus(failure.status);
    this.board.set(needsFix ? 'failed' : 'retrying', `${why}${needsFix ? '' : '; each question tries again'}`);
    this.log.warn({ bridge: this.name, why }, 'llm bridge: the model server is not ready');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.membership?.leave();
    this.membership = undefined;
    this.stopper.abort();
    await Promise.all(this.inFlight);
    this.memory.clear();
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private ready(): string {
    return `${this.spec.model} at ${this.shownUrl}`;
  }

  private registerVerb(commands: Commands): void {
    if (commands.has(this.spec.verb)) {
      throw new ConfigError(
        `bridge "${this.name}": the command "${this.spec.verb}" is taken (by another bridge or a built-in command); set verb: to another word, or command: false`,
      );
    }
    commands.register(this.spec.verb, {
      help: `asks the language model ${this.spec.model}; the answer streams back as ${ANSWER_TAG}|partial|… then ${ANSWER_TAG}|done|<answer> (or ${ANSWER_TAG}|error|<why>)`,
      args: { question: arg.text().rest() },
      handler: ({ question }, context) => {
        this.fromCommand(question, context);
      },
    });
  }

  /** `ask|…` (or `ask#7|…`) from a world in the channel. */
  private fromChannel(channel: string, event: ChannelMessage, sender: Recipient | undefined): void {
    // Another node's member: that node's bridge answers it (a whisper only reaches this node's members).
    if (event.id !== undefined || event.senderName === this.name) return;
    const { verb } = this.spec;
    const head = event.text.slice(0, verb.length + 1).toLowerCase();
    if (head !== `${verb}|` && head !== `${verb}#`) return;
    const parsed = parseRequest(event.text);
    const from = event.senderName;
    // The asking connection itself, not whoever else took the same name.
    const asker = sender ?? from;
    const whisper = (state: AnswerState, text: string, id: string | undefined) =>
      this.hub.whisper(this.line(channel, state, text, id), asker) > 0;
    if (!parsed.ok) {
      whisper('error', parsed.error, undefined);
      return;
    }
    const { id, fields = [] } = parsed.request;
    const coalesce = `${this.name}:${++this.seq}`;
    const toChannel = this.spec.answerTo === 'channel';
    this.ask(fields.join('|'), {
      key: `name:${from}`,
      memoryKey: this.spec.memory === 'channel' ? `channel:${channel}` : `${channel}/name:${from}`,
      sink: (state, text) => {
        const line = { ...this.line(channel, state, text, id), coalesce };
        if (!toChannel) return this.hub.whisper(line, asker) > 0;
        this.hub.publish(line);
        return true;
      },
      refuse: (why) => whisper('error', why, id),
    });
  }

  /** The verb in command mode: answered on the asking connection, with the request's id. */
  private fromCommand(question: string, context: CommandContext): void {
    const connection = context.connection;
    const memoryKey = this.spec.memory === 'channel' ? 'command' : `conn:${connection.id}`;
    // The real object is the Connection: its state says whether anyone still reads the answer.
    const live = connection as { isOpen?: boolean; closed?: Promise<void> };
    if (this.spec.memory === 'asker' && live.closed && !this.watched.has(connection)) {
      this.watched.add(connection);
      void live.closed.then(() => this.memory.forget(memoryKey));
    }
    const reply = (state: AnswerState, text: string) => context.reply(new Message(ANSWER_TAG, [['state', state], ['text', text]]));
    this.ask(question, {
      key: `conn:${connection.id}`,
      memoryKey,
      sink: (state, text) => {
        reply(state, text);
        return live.isOpen !== false;
      },
      refuse: (why) => reply('error', why),
    });
  }

  private line(channel: string, state: AnswerState, text: string, id: string | undefined): ChannelMessage {
    const line = new Message(ANSWER_TAG, [['state', state], ['text', text]], id).encode('line');
    return { type: 'message', channel, senderName: this.name, text: line };
  }

  /** Checks the bounds, then answers (in the background: the asker's other messages are not held up). */
  private ask(question: string, asker: Asker): void {
    const spec = this.spec;
    const text = question.trim();
    if (!this.running) return asker.refuse(`the ${this.name} bridge is not running`);
    if (text === '') return asker.refuse('the question is empty; ask something');
    if (text.length > spec.maxQuestionChars) {
      return asker.refuse(`the question has ${text.length} characters, more than the ${spec.maxQuestionChars} allowed (maxQuestionChars); ask something shorter`);
    }
    if (this.inFlight.size >= spec.concurrent) {
      return asker.refuse(`busy: ${spec.concurrent} question${spec.concurrent === 1 ? ' is' : 's are'} being answered already (concurrent); ask again in a moment`);
    }
    const open = this.openPerAsker.get(asker.key) ?? 0;
    if (open >= spec.perAsker) {
      return asker.refuse(`you are still waiting for ${open === 1 ? 'an answer' : `${open} answers`} (perAsker: ${spec.perAsker}); ask again when it has come`);
    }
    this.openPerAsker.set(asker.key, open + 1);
    const running = this.answer(text, asker)
      .catch((error: unknown) => this.log.error({ bridge: this.name, err: error }, 'llm question failed unexpectedly'))
      .finally(() => {
      this.inFlight.delete(running);
      const left = (this.openPerAsker.get(asker.key) ?? 1) - 1;
      if (left > 0) this.openPerAsker.set(asker.key, left);
      else this.openPerAsker.delete(asker.key);
    });
    this.inFlight.add(running);
  }

  private async answer(question: string, asker: Asker): Promise<void> {
    const spec = this.spec;
    const remembered = spec.memory === 'none' ? [] : this.memory.recall(asker.memoryKey);
    const messages: ChatMessage[] = [];
    if (spec.system) messages.push({ role: 'system', content: spec.system });
    for (const turn of remembered) messages.push({ role: 'user', content: turn.question }, { role: 'assistant', content: turn.answer });
    messages.push({ role: 'user', content: question });
    this.log.debug({ bridge: this.name, asker: asker.key, chars: question.length, remembered: remembered.length }, 'llm question');
    const outcome = await answer(
      { url: spec.url, shownUrl: this.shownUrl, model: spec.model, messages, apiKey: this.apiKey, temperature: spec.temperature, maxTokens: spec.maxTokens },
      { maxAnswerChars: spec.maxAnswerChars, timeoutMs: spec.timeoutMs, partialMs: spec.partialMs },
      asker.sink,
      this.stopper.signal,
      (text) => this.scrub(text),
    );
    if (outcome.ok) {
      if (this.running) this.board.set('connected', this.ready());
      if (outcome.cut) this.log.info({ bridge: this.name, asker: asker.key, maxAnswerChars: spec.maxAnswerChars }, 'llm answer cut at maxAnswerChars');
      if (spec.memory !== 'none' && this.running) this.memory.remember(asker.memoryKey, { question, answer: outcome.text });
      return;
    }
    if (outcome.gone) return;
    if (outcome.failure && this.running) {
      const status = outcome.failure.status;
      // A wrong key, url or model needs a change of config; anything else may pass by itself.
      const needsFix = status === 401 || status === 403 || status === 404 || isRedirectStatus(status);
      this.board.set(needsFix ? 'failed' : 'retrying', `${outcome.why}${needsFix ? '' : '; the next question tries again'}`);
    }
    this.throttled.warn(outcome.failure ? 'llm-failed' : 'llm-unanswered', { bridge: this.name, why: outcome.why }, 'llm question not answered');
  }

  /** Any text that may be shown or logged, without the API key (a server may quote it back in an error). */
  private scrub(text: string): string {
    const key = this.apiKey?.reveal();
    return key ? text.split(key).join('[secret]') : text;
  }
}
