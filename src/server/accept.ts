/**
 * Wires one accepted WebSocket: its Connection (pacing from config and
 * `?rate=`), its Client context, the endpoint's session, inbound limits,
 * hooks and logs. Bad input costs the client an error message, never the server.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { Client, type ClientServices } from '../app/client.js';
import type { Config } from '../config/fields.js';
import type { Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { CloseCode, Connection, type ConnectionOptions } from './connection.js';
import type { Endpoint, Session } from './endpoint.js';
import type { Admitted } from './handshake.js';
import type { Metrics } from '../metrics/metrics.js';
import { InboundGate, type GateEvents } from './inbound-gate.js';
import type { Allowance, InboundLimits } from './inbound-limits.js';
import type { PacerOptions } from './pacer.js';
import { commonOptions, rateOption, readQuery, type QueryOption } from './query-options.js';

/**
 * A client over its inbound allowance for this long without a second's break is closed (1008): a backlog
 * (e.g. sent while the server was paused) is read at the allowed rate well within it; a flood never ends.
 */
const FLOOD_CLOSE_MS = 10_000;

export type ClientHook = (client: Client, what: 'connect' | 'disconnect') => void;

/** Sees connections open and the text they send (the dashboard). */
export interface ConnectionWatcher {
  opened(connection: Connection): void;
  received(connection: Connection, text: string): void;
}

export interface AcceptContext {
  config: Config;
  log: Logger;
  services: ClientServices;
  limits: InboundLimits;
  connections: Set<Connection>;
  /** What every connection of this server shares (see acceptOptions). */
  options: AcceptOptions;
  hooks: ClientHook;
  metrics: Metrics;
  watcher?: ConnectionWatcher;
}

/** Made once per server: connection options, outbound pacing per endpoint kind and query options per endpoint, shared by every connection. */
export interface AcceptOptions {
  connection: ConnectionOptions;
  pacing(kind: string): PacerOptions;
  queryOptions(endpoint: Endpoint): Record<string, QueryOption<unknown>>;
}

export function acceptOptions(config: Config, log: Logger): AcceptOptions {
  const connection: ConnectionOptions = {
    closeLingerMs: config.closeLingerMs,
    maxBufferedBytes: config.maxBufferedBytes,
    maxQueuedBytes: config.maxQueuedBytes,
    stallTimeoutMs: config.stallTimeoutMs,
    log,
  };
  const byKind = new Map(
    config.endpointRates
      .split(',')
      .filter(Boolean)
      .map((entry) => {
        const [kind = '', rate = '0'] = entry.split('=');
        return [kind.replace(/^\//, ''), pacing(config, Number(rate))] as const;
      }),
  );
  const fallback = pacing(config, config.outboundRate);
  // One entry per endpoint of this server (a fixed set).
  const specs = new Map<Endpoint, Record<string, QueryOption<unknown>>>();
  const rate = rateOption(config.maxOutboundRate);
  return {
    connection,
    pacing: (kind) => byKind.get(kind) ?? fallback,
    queryOptions(endpoint) {
      let spec = specs.get(endpoint);
      if (!spec) specs.set(endpoint, (spec = { ...commonOptions, rate, ...endpoint.options }));
      return spec;
    },
  };
}

/**
 * A WebSocket that knows its client's Link: ws makes these (WebSocketServer's
 * documented `WebSocket` option), so ws's events reach the Link through
 * handlers shared by every client instead of closures made per client.
 */
export class ClientSocket extends WebSocket {
  link: Link | undefined;
}

export function accept(ws: ClientSocket, socket: Duplex, admitted: Admitted, context: AcceptContext): void {
  const { config, log } = context;
  const { endpoint, params } = admitted;
  const connection = new Connection(
    ws,
    socket,
    { path: admitted.path, endpoint: endpoint.path, search: admitted.search, remoteAddress: admitted.remoteAddress },
    context.options.connection,
    context.options.pacing(endpoint.kind),
  );
  connection.grant = admitted.grant;
  // Read from the string: connection.query would keep a parsed copy for the connection's whole life.
  const query = new URLSearchParams(connection.search);
  const { values, errors } = readQuery(context.options.queryOptions(endpoint) as typeof endpoint.options & typeof commonOptions, query, !endpoint.acceptsAnyOption);
  if (values.name) connection.name = values.name;
  if (values.rate !== undefined) errors.push(...applyRate(connection, values.rate, config));
  const client = new Client(connection, context.services, values.ns);
  const link = new Link(connection, client, params, context);
  // Listening from here on: if anything below throws, the caller's terminate() still runs link.closed (the allowance is released).
  ws.link = link;
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('error', onError);
  ws.on('close', onClose);
  context.connections.add(connection);
  context.watcher?.opened(connection);
  // The fields are built only when the line is logged (it carries no reason, so it is no dashboard notice).
  if (log.isLevelEnabled('info')) log.info(link.about(), 'connected');
  for (const error of errors) {
    log.info({ ...link.about(), reason: shortened(error) }, 'query option refused');
    connection.sendMessage(messages.error('query', error));
  }
  context.hooks(client, 'connect');
  link.open(() => endpoint.open(client, params, values));
}

// ws's events, shared by every client: `this` is the client's socket (Node calls listeners so), a ClientSocket.
const linkOf = (socket: WebSocket) => (socket as ClientSocket).link;
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  linkOf(this)?.gate.receive(data as Buffer, isBinary);
}
/** Only a pong shows the client reads what it is sent; its own messages do not (see Connection.markAlive). */
function onPong(this: WebSocket): void {
  linkOf(this)?.connection.markAlive();
}
function onError(this: WebSocket, error: Error): void {
  linkOf(this)?.protocolError(error);
}
function onClose(this: WebSocket, code: number, reason: Buffer): void {
  linkOf(this)?.closed(code, reason);
  (this as ClientSocket).link = undefined;
}

/**
 * One accepted client's wiring: its inbound gate, its session, its logs.
 * Bad input costs the client an error message, never the server; an endpoint
 * that throws costs that client an error message (or, on open, its connection).
 */
class Link implements GateEvents {
  readonly gate: InboundGate;
  private readonly allowance: Allowance;
  private session: Session = CLOSED_SESSION;
  /** When the client was last told it sends too fast. */
  private toldAt = -Infinity;

  constructor(
    readonly connection: Connection,
    private readonly client: Client,
    private readonly params: Record<string, string>,
    private readonly context: AcceptContext,
  ) {
    this.allowance = context.limits.open(connection.remoteAddress);
    this.gate = new InboundGate(this.allowance, connection.reading, this);
  }

  /** Who this client is, for the log (made when a line is logged, not kept). */
  about(): Record<string, unknown> {
    const { connection } = this;
    return { conn: connection.id, path: connection.shownPath, ...this.params, remote: connection.remoteAddress, name: connection.name, token: connection.grant.name };
  }

  open(open: () => Session): void {
    try {
      this.session = open();
    } catch (error) {
      void this.connection.close(CloseCode.internalError, 'internal error', this.failed('open', error));
    }
  }

  deliver(bytes: Buffer, isBinary: boolean): void {
    const { connection, context } = this;
    // A closing connection reads on (so the close handshake completes) but handles nothing more.
    if (!connection.isOpen) return this.gate.stop();
    connection.messagesIn++;
    connection.bytesIn += bytes.length;
    if (isBinary) {
      connection.sendMessage(messages.error('binary', 'this server takes text messages only; the binary message was ignored'));
    } else if (bytes.length > context.config.maxMessageBytes) {
      void connection.close(
        CloseCode.messageTooBig,
        'message too big',
        messages.error('size', `a message of ${bytes.length} bytes is over this server's limit of ${context.config.maxMessageBytes} bytes; closing`),
      );
    } else {
      const text = bytes.toString();
      context.watcher?.received(connection, text);
      try {
        this.session.message(text);
      } catch (error) {
        connection.sendMessage(this.failed('message', error));
      }
    }
  }

  over(over: string, forMs: number): void {
    const { connection, context } = this;
    context.metrics.rateLimited.inc({ reason: 'held' });
    if (forMs > FLOOD_CLOSE_MS) {
      context.metrics.rateLimited.inc({ reason: 'closed' });
      context.log.warn({ ...this.about(), reason: over }, 'closing a flooding client');
      this.gate.stop();
      void connection.close(CloseCode.policyViolation, `sending too fast (${over}, for too long)`, messages.error('rate', `sending too fast (${over}, for too long); closing`));
      return;
    }
    const now = performance.now();
    if (now - this.toldAt < 1_000) return;
    this.toldAt = now;
    connection.sendMessage(messages.error('rate', `you are sending ${over}; your messages wait and are read at that rate`));
  }

  protocolError(error: Error): void {
    this.context.log.info({ ...this.about(), err: error.message }, 'client protocol error');
  }

  closed(code: number, reason: Buffer): void {
    const { connection, context } = this;
    context.connections.delete(connection);
    context.metrics.closedConnection(connection);
    this.gate.stop();
    this.allowance.release();
    try {
      this.session.close();
    } catch (error) {
      this.failed('close', error);
    }
    this.client.dispose();
    context.hooks(this.client, 'disconnect');
    // Logged whatever the level: a close the server made carries a reason, which the dashboard shows (log/notices.ts).
    context.log.info(
      {
        ...this.about(),
        ...connection.closeDetails(code, reason.toString()),
        durationMs: Date.now() - connection.connectedAt,
        messagesIn: connection.messagesIn,
        messagesOut: connection.messagesOut,
        dropped: connection.dropped || undefined,
      },
      'disconnected',
    );
  }

  /** Logs an endpoint's failure; the message tells the client. */
  private failed(what: string, error: unknown): Message {
    this.context.log.error({ err: error, conn: this.connection.id, path: this.connection.shownPath }, `endpoint failed on ${what}`);
    return messages.error('internal', 'the server failed to handle that; see its log');
  }
}

/** The session of a connection whose endpoint failed to open: it handles nothing. */
const CLOSED_SESSION: Session = { message: () => {}, close: () => {} };

/** `?rate=N`: up to maxOutboundRate; 0 (unpaced) only where maxOutboundRate is 0. Returns errors for the client. */
function applyRate(connection: Connection, rate: number, config: Config): string[] {
  const cap = config.maxOutboundRate;
  if (cap !== 0 && (rate === 0 || rate > cap)) {
    connection.pace(pacing(config, cap));
    return [`rate is limited to ${cap} messages per second on this server; using ${cap} (got "${rate}")`];
  }
  connection.pace(pacing(config, rate, Math.max(config.outboundBurst, Math.ceil(rate / 10))));
  return [];
}

/** Outbound pacing at `rate` with the server's queue settings. */
function pacing(config: Config, rate: number, burst = config.outboundBurst): PacerOptions {
  return { rate, burst, queueLimit: config.outboundQueue, maxAgeMs: config.outboundMaxAgeMs };
}

/** Client input quoted in a log line (a 15 KB ?name=): bounded. */
function shortened(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
