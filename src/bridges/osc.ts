/**
 * `type: osc`: OSC over UDP, for the VR tools that speak only OSC (heart rate,
 * face tracking, speech-to-text).
 *   In:  each OSC message whose address matches a `map` pattern is published to
 *        its channel as `osc|<address>|<arg>|<arg>…` (numbers with `.`, booleans
 *        true/false). A fast stream is coalesced per address: a world that falls
 *        behind gets the latest value of each, not a backlog.
 *   Out: each message in the `send.channel` of the form `<address>|<arg>|<arg>…`
 *        (or the same with `osc|` in front) is sent as OSC to send.host:send.port;
 *        an argument that reads as a number is sent as one (float if it has a `.`),
 *        true/false as booleans, anything else as a string.
 */
import { Client, Server } from 'node-osc';
import type { Logger } from 'pino';
import type { Hub, Membership } from '../hub/hub.js';
import { escapeField, parseLine } from '../protocol/line.js';
import { formatFloat32, formatValue } from '../protocol/values.js';
import { Backoff } from './backoff.js';
import { StatusBoard, type Bridge, type BridgeStatus } from './bridge.js';
import { z } from 'zod';
import { bridgeName, channelName, port } from './bridge-spec.js';

export const OSC_SPEC = z
  .object({
    type: z.literal('osc'),
    name: bridgeName.optional(),
    /** UDP port to receive OSC on. */
    listen: port.optional(),
    listenHost: z.string().default('127.0.0.1'),
    /** OSC address pattern (* for any run of characters) → channel. */
    map: z.record(z.string().startsWith('/'), channelName).default({ '/*': 'osc' }),
    /** Channel messages `/address|arg|arg…` in this channel are sent as OSC to host:port. */
    send: z.object({ channel: channelName, host: z.string().default('127.0.0.1'), port }).strict().optional(),
  })
  .strict()
  .refine((spec) => spec.listen !== undefined || spec.send !== undefined, { message: 'an osc bridge needs listen, send, or both' });
export type OscSpec = z.infer<typeof OSC_SPEC>;

type OscArg = number | string | boolean | { type: 'float'; value: number };

export class OscBridge implements Bridge {
  private readonly name: string;
  private readonly routes: { pattern: RegExp; channel: string }[];
  private readonly backoff = new Backoff();
  private server: Server | undefined;
  private client: Client | undefined;
  private membership: Membership | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly board: StatusBoard;

  constructor(
    private readonly spec: OscSpec,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.name = spec.name ?? `osc${spec.listen ? `-${spec.listen}` : ''}`;
    this.board = new StatusBoard(this.name, 'osc');
    this.routes = Object.entries(spec.map).map(([pattern, channel]) => ({
      pattern: new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`),
      channel,
    }));
  }

  start(): void {
    if (this.spec.send) {
      const { channel, host, port } = this.spec.send;
      this.client = new Client(host, port);
      this.membership = this.hub.listen(channel, this.name, (event) => this.toOsc(event.text));
    }
    if (this.spec.listen) this.listen(this.spec.listen);
    else this.board.set('connected', this.describe());
  }

  async stop(): Promise<void> {
    clearTimeout(this.retry);
    this.membership?.leave();
    const { server, client } = this;
    await Promise.all([quietly(() => server?.close()), quietly(() => client?.close())]);
    this.server = undefined;
    this.board.set('stopped', 'stopped');
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  private listen(port: number): void {
    const server = new Server(port, this.spec.listenHost);
    this.server = server;
    server.on('listening', () => {
      this.backoff.reset();
      this.board.set('connected', this.describe());
      this.log.info({ bridge: this.name, port }, 'osc bridge listening');
    });
    server.on('message', (message: unknown[]) => this.fromOsc(message));
    server.on('bundle', (bundle: { elements: unknown[][] }) => bundle.elements.forEach((element) => this.fromOsc(element)));
    server.on('error', (error: Error) => {
      const delay = this.backoff.next();
      this.board.set('retrying', `cannot listen on UDP ${this.spec.listenHost}:${port} (${error.message}); trying again in ${delay / 1000} s`);
      this.log.warn({ bridge: this.name, err: error.message, retryInMs: delay }, 'osc bridge cannot listen');
      void quietly(() => server.close());
      this.retry = setTimeout(() => this.listen(port), delay);
    });
  }

  private describe(): string {
    const parts = [];
    if (this.spec.listen) parts.push(`UDP ${this.spec.listenHost}:${this.spec.listen} → ${[...new Set(Object.values(this.spec.map))].join(', ')}`);
    if (this.spec.send) parts.push(`${this.spec.send.channel} → UDP ${this.spec.send.host}:${this.spec.send.port}`);
    return parts.join('; ');
  }


  /** An OSC message → `osc|<address>|<args…>` in the mapped channel. */
  private fromOsc(message: unknown[]): void {
    const [address, ...args] = message;
    if (typeof address !== 'string') return;
    const route = this.routes.find(({ pattern }) => pattern.test(address));
    if (!route) return;
    const fields = args.map(oscField);
    const text = ['osc', address, ...fields].map((field, index) => (index === 0 ? field : escapeField(field))).join('|');
    this.hub.publish({ type: 'message', channel: route.channel, senderName: this.name, text, coalesce: address });
  }

  /** A channel message `<address>|<args…>` (or `osc|<address>|…`) → an OSC message. */
  private toOsc(text: string): void {
    if (!this.client) return;
    const fields = parseLine(text);
    if (fields[0] === 'osc') fields.shift();
    const [address, ...args] = fields;
    if (!address?.startsWith('/')) {
      this.log.warn({ bridge: this.name, text }, 'osc bridge: a message that is not /address|args was not sent');
      return;
    }
    void this.client.send(address, ...args.map(toArg));
  }
}

/**
 * An OSC argument as a field. A float32 (`f`) arrives widened to a double (0.1 as 0.10000000149011612):
 * a fraction that a float32 holds exactly is written at float32 precision. NaN and ±Infinity have no text
 * a Parse node reads: they are sent as empty fields.
 */
function oscField(arg: unknown): string {
  if (typeof arg === 'number') {
    if (!Number.isFinite(arg)) return '';
    return Number.isInteger(arg) || Math.fround(arg) !== arg ? formatValue(arg) : formatFloat32(arg);
  }
  return typeof arg === 'boolean' || typeof arg === 'string' ? formatValue(arg) : String(arg);
}

function toArg(text: string): OscArg {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(text)) return { type: 'float', value: Number(text) };
  return text;
}

/** Closes a UDP socket that may never have opened (a failed bind): that is not an error here. */
async function quietly(close: () => Promise<void> | undefined): Promise<void> {
  try {
    await close();
  } catch {
    // Not running: nothing to close.
  }
}
