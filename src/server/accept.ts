/**
 * Wires one accepted WebSocket: its Connection (pacing from config and
 * `?rate=`), its Client context, the endpoint's session, inbound limits,
 * hooks and logs. Bad input costs the client an error message, never the server.
 */
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { Client, type ClientServices } from '../app/client.js';
import type { Config } from '../config/fields.js';
import type { Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { CloseCode, Connection } from './connection.js';
import type { Session } from './endpoint.js';
import type { Admitted } from './handshake.js';
import type { Metrics } from '../metrics/metrics.js';
import { InboundGate } from './inbound-gate.js';
import type { InboundLimits } from './inbound-limits.js';
import { commonOptions, rateOption, readQuery } from './query-options.js';

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
  /** Outbound rate per endpoint kind (endpointRates). */
  endpointRates: Map<string, number>;
  hooks: ClientHook;
  metrics: Metrics;
  watcher?: ConnectionWatcher;
}

export function accept(ws: WebSocket, admitted: Admitted, context: AcceptContext): void {
  const { config, log } = context;
  const { endpoint, params } = admitted;
  const connection = new Connection(
    ws,
    { path: admitted.path, endpoint: endpoint.path, query: admitted.query, remoteAddress: admitted.remoteAddress },
    {
      closeLingerMs: config.closeLingerMs,
      maxBufferedBytes: config.maxBufferedBytes,
      maxQueuedBytes: config.maxQueuedBytes,
      stallTimeoutMs: config.stallTimeoutMs,
      log,
      pacing: {
        rate: context.endpointRates.get(endpoint.kind) ?? config.outboundRate,
        burst: config.outboundBurst,
        queueLimit: config.outboundQueue,
        maxAgeMs: config.outboundMaxAgeMs,
      },
    },
  );
  connection.grant = admitted.grant;
  const { values, errors } = readQuery({ ...commonOptions, rate: rateOption(config.maxOutboundRate), ...endpoint.options }, connection.query, !endpoint.acceptsAnyOption);
  if (values.name) connection.name = values.name;
  if (values.rate !== undefined) errors.push(...applyRate(connection, values.rate, config));
  const about = { conn: connection.id, path: connection.shownPath, ...params, remote: connection.remoteAddress, name: connection.name, token: admitted.grant.name };
  context.connections.add(connection);
  context.watcher?.opened(connection);
  log.info(about, 'connected');
  for (const error of errors) {
    log.info({ ...about, reason: shortened(error) }, 'query option refused');
    connection.sendMessage(messages.error('query', error));
  }
  const client = new Client(connection, context.services, values.ns);
  context.hooks(client, 'connect');
  const session = guarded(connection, log, () => endpoint.open(client, params, values));

  let toldAt = -Infinity;
  const allowance = context.limits.open(connection.remoteAddress);
  const gate = new InboundGate(allowance, connection.reading, {
    deliver: (bytes, isBinary) => {
      // A closing connection reads on (so the close handshake completes) but handles nothing more.
      if (!connection.isOpen) return gate.stop();
      connection.messagesIn++;
      connection.bytesIn += bytes.length;
      handle(bytes, isBinary);
    },
    over: (over, forMs) => {
      context.metrics.rateLimited.inc({ reason: 'held' });
      if (forMs > FLOOD_CLOSE_MS) {
        context.metrics.rateLimited.inc({ reason: 'closed' });
        log.warn({ ...about, reason: over }, 'closing a flooding client');
        gate.stop();
        void connection.close(CloseCode.policyViolation, `sending too fast (${over}, for too long)`, messages.error('rate', `sending too fast (${over}, for too long); closing`));
        return;
      }
      const now = performance.now();
      if (now - toldAt < 1_000) return;
      toldAt = now;
      connection.sendMessage(messages.error('rate', `you are sending ${over}; your messages wait and are read at that rate`));
    },
  });
  const handle = (bytes: Buffer, isBinary: boolean) => {
    if (isBinary) {
      connection.sendMessage(messages.error('binary', 'this server takes text messages only; the binary message was ignored'));
    } else if (bytes.length > config.maxMessageBytes) {
      void connection.close(
        CloseCode.messageTooBig,
        'message too big',
        messages.error('size', `a message of ${bytes.length} bytes is over this server's limit of ${config.maxMessageBytes} bytes; closing`),
      );
    } else {
      const text = bytes.toString();
      context.watcher?.received(connection, text);
      session.message(text);
    }
  };

  ws.on('message', (data: RawData, isBinary: boolean) => gate.receive(data as Buffer, isBinary));
  // Only a pong shows the client reads what it is sent; its own messages do not (see Connection.markAlive).
  ws.on('pong', () => connection.markAlive());
  ws.on('error', (error) => log.info({ ...about, err: error.message }, 'client protocol error'));
  ws.once('close', (code: number, reason: Buffer) => {
    context.connections.delete(connection);
    context.metrics.closedConnection(connection);
    gate.stop();
    allowance.release();
    session.close();
    client.dispose();
    context.hooks(client, 'disconnect');
    log.info(
      {
        ...about,
        ...connection.closeDetails(code, reason.toString()),
        durationMs: Date.now() - connection.connectedAt,
        messagesIn: connection.messagesIn,
        messagesOut: connection.messagesOut,
        dropped: connection.dropped || undefined,
      },
      'disconnected',
    );
  });
}

/** `?rate=N`: up to maxOutboundRate; 0 (unpaced) only where maxOutboundRate is 0. Returns errors for the client. */
function applyRate(connection: Connection, rate: number, config: Config): string[] {
  const cap = config.maxOutboundRate;
  if (cap !== 0 && (rate === 0 || rate > cap)) {
    connection.pace({ rate: cap, burst: config.outboundBurst, queueLimit: config.outboundQueue, maxAgeMs: config.outboundMaxAgeMs });
    return [`rate is limited to ${cap} messages per second on this server; using ${cap} (got "${rate}")`];
  }
  connection.pace({ rate, burst: Math.max(config.outboundBurst, Math.ceil(rate / 10)), queueLimit: config.outboundQueue, maxAgeMs: config.outboundMaxAgeMs });
  return [];
}

/** An endpoint that throws costs that client an error message (or, on open, its connection), never the server. */
function guarded(connection: Connection, log: Logger, open: () => Session): Session {
  const fail = (what: string, error: unknown): Message => {
    log.error({ err: error, conn: connection.id, path: connection.shownPath }, `endpoint failed on ${what}`);
    return messages.error('internal', 'the server failed to handle that; see its log');
  };
  let session: Session;
  try {
    session = open();
  } catch (error) {
    void connection.close(CloseCode.internalError, 'internal error', fail('open', error));
    return { message: () => {}, close: () => {} };
  }
  const attempt = (what: string, action: () => void) => {
    try {
      action();
    } catch (error) {
      connection.sendMessage(fail(what, error));
    }
  };
  return {
    message: (text) => attempt('message', () => session.message(text)),
    close: () => attempt('close', () => session.close()),
  };
}

/** Client input quoted in a log line (a 15 KB ?name=): bounded. */
function shortened(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
