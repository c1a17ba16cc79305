/**
 * `type: program` (shared mode): one long-running program attached to a
 * channel. Every message in the channel reaches its stdin as one line,
 * `<sender>|<text>`, both fields percent-escaped like the line format (`|`,
 * `%`, CR and LF; undo with decodeURIComponent / urllib.parse.unquote). Every
 * line it writes is published to the channel; a line `@<name>|<text>` goes to
 * the members named <name> only. If it dies it is restarted, with backoff.
 */
import type { Logger } from 'pino';
import type { ChannelMessage } from '../hub/broker.js';
import type { Hub, Membership } from '../hub/hub.js';
import { escapeField } from '../protocol/line.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { z } from 'zod';
import { NAME, NAME_RULE } from '../protocol/names.js';
import { bridgeName, command } from './bridge-spec.js';
import { readLines } from './lines.js';
import { endProgram, GRACE_MS, spawnProgram, writeLine } from './spawn-program.js';

export const PROGRAM_SPEC = z
  .object({
    type: z.literal('program'),
    channel: z.string().regex(NAME, `channel must be ${NAME_RULE}`),
    command,
    name: bridgeName.optional(),
  })
  .strict();
export type ProgramSpec = z.infer<typeof PROGRAM_SPEC>;

/** A program that ran at least this long before dying starts again after the shortest delay. */
const STABLE_MS = 10_000;

export class ProgramBridge implements Bridge {
  private readonly name: string;
  private readonly backoff = new Backoff();
  private child: ReturnType<typeof spawnProgram> | undefined;
  private membership: Membership | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly board: StatusBoard;
  private stopping = false;
  /** Lines dropped because the program stopped reading (for the log). */
  private unread = 0;

  constructor(
    private readonly spec: ProgramSpec,
    private readonly hub: Hub,
    private readonly maxMessageBytes: number,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? `program-${spec.channel}`;
    this.board = new StatusBoard(this.name, 'program');
  }

  start(): void {
    this.stopping = false;
    this.membership = this.hub.listen(this.spec.channel, this.name, (event) => this.toProgram(event));
    this.launch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.membership?.leave();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      endProgram(child, GRACE_MS);
      await exited;
    }
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private launch(): void {
    const child = spawnProgram(this.spec.command, { RESOBRIDGE_CHANNEL: this.spec.channel, RESOBRIDGE_NAME: this.name });
    const started = Date.now();
    this.child = child;
    this.board.set('running', `"${this.spec.command}" on channel ${this.spec.channel} (pid ${child.pid})`);
    const about = { bridge: this.name, pid: child.pid };
    this.log.info({ ...about, command: this.spec.command }, 'bridge program started');
    readLines(child.stdout, this.maxMessageBytes, (line) => {
      if ('problem' in line) return this.log.warn({ ...about, problem: line.problem }, 'bridge program output dropped');
      this.fromProgram(line.text);
    });
    readLines(child.stderr, this.maxMessageBytes, (line) => this.log.info({ ...about, stderr: 'text' in line ? line.text : line.problem }, 'bridge program stderr'));
    child.once('error', (error) => this.log.error({ ...about, err: error }, 'bridge program could not start'));
    child.once('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      if (Date.now() - started >= STABLE_MS) this.backoff.reset();
      const delay = this.backoff.next();
      this.board.set('retrying', `the program ended (${signal ?? `exit code ${code}`}); starting it again in ${delay / 1000} s`);
      this.log.warn({ ...about, code, signal, retryInMs: delay }, 'bridge program ended; restarting');
      this.restartTimer = setTimeout(() => this.launch(), delay);
    });
  }

  /** A channel message → one stdin line. */
  private toProgram({ senderName, text }: ChannelMessage): void {
    if (!this.child || writeLine(this.child, `${escapeField(senderName)}|${escapeField(text)}\n`)) return;
    // Told once per stall (and every 1,000 drops), not once per message.
    if (this.unread++ % 1_000 === 0) this.log.warn({ bridge: this.name, dropped: this.unread }, 'bridge program is not reading its input; channel messages for it are dropped');
  }

  /** One stdout line → the channel, or `@<name>|<text>` → those members only. */
  private fromProgram(text: string): void {
    const direct = /^@([^|]+)\|(.*)$/s.exec(text);
    if (direct) {
      const [, to = '', body = ''] = direct;
      this.hub.whisper({ type: 'message', channel: this.spec.channel, senderName: this.name, text: body }, to);
      return;
    }
    this.membership?.publish(text);
  }
}
