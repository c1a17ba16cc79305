/**
 * createServer: the HTTP + WebSocket server, assembled from the config. The
 * CLI's `serve` is exactly this; tests and users embed it the same way, and
 * add their own commands, hooks and endpoints.
 *
 * Flow: socket → Connection → endpoint session → hub / commands → Connection(s).
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Args } from '../app/args.js';
import { registerBuiltins } from '../app/builtins.js';
import { Client, scopedStore, type ConnectionContext, type ScopedStore } from '../app/client.js';
import { commandEndpoint } from '../app/command-endpoint.js';
import { Commands, type CommandSpec } from '../app/commands.js';
import { customEndpoint, type EndpointHandlers } from '../app/custom-endpoint.js';
import type { Config } from '../config/fields.js';
import { resolveConfig } from '../config/load.js';
import { Hub } from '../hub/hub.js';
import { MemoryBroker } from '../hub/memory-broker.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { KeyValue } from '../store/keyvalue.js';
import { openStore } from '../store/open-store.js';
import { within } from '../util/timeout.js';
import { VERSION } from '../version.js';
import { CloseCode, Connection } from './connection.js';
import type { Endpoint, Session } from './endpoint.js';
import { channelEndpoint } from './endpoints/channel.js';
import { echoEndpoint } from './endpoints/echo.js';
import { httpHandler } from './http-handler.js';
import { refuseUpgrade } from './http-pages.js';
import { Keepalive } from './keepalive.js';
import { explainListenError } from './listen-error.js';
import { commonOptions, DEFAULT_NAMESPACE, readQuery } from './query-options.js';
import { route } from './router.js';

export interface ServerOptions extends Partial<Config> {
  /** Where logs go; by default one is made from logLevel and logFormat. */
  logger?: Logger;
}

export type ConnectionHook = (context: ConnectionContext) => void | Promise<void>;

export interface ResobridgeServer {
  readonly config: Config;
  readonly endpoints: readonly Endpoint[];
  /** Where it listens, once listen() has resolved. */
  readonly address: AddressInfo | null;
  /** Opens the store, then listens. */
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, tell every client, linger, close with 1001, close the store. */
  close(): Promise<void>;
  /** Adds a command to command mode (it appears in `help`). */
  command<S extends Args>(verb: string, spec: CommandSpec<S>): ResobridgeServer;
  /** Mounts an endpoint at a path of its own, e.g. `/game`. */
  endpoint(path: string, handlers: EndpointHandlers): ResobridgeServer;
  /** Runs for every connection that opens (after its query options are read). */
  onConnect(hook: ConnectionHook): ResobridgeServer;
  /** Runs for every connection that closes. */
  onDisconnect(hook: ConnectionHook): ResobridgeServer;
  /** Publishes to a channel from the server itself (or an app), under the sender name `from`. */
  publish(channel: string, text: string, from?: string): void;
  /** The store within one namespace; available once listen() has resolved. */
  store(ns?: string): ScopedStore;
}

/**
 * Messages up to this size are read so the client can be told, as text, that
 * it went over maxMessageBytes before the 1009 close; anything bigger is cut
 * off by ws itself (1009, no text) without being buffered.
 */
const readLimit = (maxMessageBytes: number): number => maxMessageBytes * 4;
/** Most keys one `keys` answer lists. */
const MAX_KEYS_LISTED = 100;

export function createServer(options: ServerOptions = {}): ResobridgeServer {
  const { logger: givenLogger, ...settings } = options;
  const config = resolveConfig(settings);
  const log = givenLogger ?? createLogger(config);
  const startedAt = Date.now();
  const hub = new Hub(new MemoryBroker(config.maxHistory), (error, channel) =>
    log.error({ err: error, channel }, 'channel broker failed'),
  );
  const commands = new Commands();
  registerBuiltins(commands, config.maxHistory);
  const endpoints: Endpoint[] = [echoEndpoint, channelEndpoint(hub, config.maxHistory), commandEndpoint(commands, log)];
  const hooks = { connect: [] as ConnectionHook[], disconnect: [] as ConnectionHook[] };
  const connections = new Set<Connection>();
  let keyvalue: KeyValue | undefined;
  const wss = new WebSocketServer({ noServer: true, maxPayload: readLimit(config.maxMessageBytes), perMessageDeflate: false });
  const health = () => ({
    status: closing ? 'shutting down' : 'ok',
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    connections: connections.size,
    channels: hub.channelCount,
  });
  const http = createHttpServer(httpHandler(endpoints, { health }));
  // Answer every request promptly; never leave a half-open handshake hanging.
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;
  let keepalive: Keepalive | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;

  http.on('upgrade', (req, socket: Socket, head: Buffer) => {
    socket.on('error', (error) => log.debug({ err: error }, 'handshake socket error'));
    if (closing || !keyvalue) return refuseUpgrade(socket, 503, 'The server is not running right now (starting or stopping). Try again in a moment.');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const found = route(endpoints, url.pathname);
    if (!('endpoint' in found)) {
      log.info({ path: url.pathname, remote: socket.remoteAddress, status: found.status }, 'handshake refused');
      return refuseUpgrade(socket, found.status, found.reason);
    }
    const store = keyvalue;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(
        ws,
        { path: url.pathname, query: url.searchParams, remoteAddress: socket.remoteAddress ?? 'unknown' },
        config.closeLingerMs,
      );
      accept(ws, connection, store, found.endpoint, found.params);
    });
  });

  function accept(ws: WebSocket, connection: Connection, store: KeyValue, endpoint: Endpoint, params: Record<string, string>): void {
    const { values, errors } = readQuery({ ...commonOptions, ...endpoint.options }, connection.query);
    if (values.name) connection.name = values.name;
    const about = { conn: connection.id, path: connection.path, ...params, remote: connection.remoteAddress, name: connection.name };
    connections.add(connection);
    log.info(about, 'connected');
    for (const error of errors) connection.sendMessage(messages.error('query', error));
    const client = new Client(connection, { hub, keyvalue: store, maxHistory: config.maxHistory }, values.ns);
    runHooks(hooks.connect, client, 'connect');
    const session = guarded(connection, () => endpoint.open(client, params, values));

    ws.on('message', (data: RawData, isBinary: boolean) => {
      connection.markAlive();
      connection.messagesIn++;
      const bytes = data as Buffer;
      if (isBinary) {
        connection.sendMessage(messages.error('binary', 'this server takes text messages only; the binary message was ignored'));
      } else if (bytes.length > config.maxMessageBytes) {
        void connection.close(
          CloseCode.messageTooBig,
          'message too big',
          messages.error('size', `a message of ${bytes.length} bytes is over this server's limit of ${config.maxMessageBytes} bytes; closing`),
        );
      } else if (connection.isOpen) {
        session.message(bytes.toString());
      }
    });
    ws.on('pong', () => connection.markAlive());
    ws.on('error', (error) => log.info({ ...about, err: error.message }, 'client protocol error'));
    ws.once('close', (code: number, reason: Buffer) => {
      connections.delete(connection);
      session.close();
      client.dispose();
      runHooks(hooks.disconnect, client, 'disconnect');
      log.info(
        {
          ...about,
          code,
          reason: reason.toString() || undefined,
          durationMs: Date.now() - connection.connectedAt,
          messagesIn: connection.messagesIn,
          messagesOut: connection.messagesOut,
        },
        'disconnected',
      );
    });
  }

  function runHooks(list: ConnectionHook[], client: Client, what: string): void {
    for (const hook of list) {
      try {
        Promise.resolve(hook(client)).catch((error: unknown) => log.error({ err: error, conn: client.connection.id }, `${what} hook failed`));
      } catch (error) {
        log.error({ err: error, conn: client.connection.id }, `${what} hook failed`);
      }
    }
  }

  /** An endpoint that throws costs that client an error message (or, on open, its connection), never the server. */
  function guarded(connection: Connection, open: () => Session): Session {
    const fail = (what: string, error: unknown): Message => {
      log.error({ err: error, conn: connection.id, path: connection.path }, `endpoint failed on ${what}`);
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

  async function shutdown(): Promise<void> {
    closing = true;
    keepalive?.stop();
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    const open = [...connections];
    const gone = open.map((connection) => connection.closed);
    await Promise.all(open.map((connection) => connection.close(CloseCode.goingAway, 'server shutting down', messages.server('shutting down'))));
    if (!(await within(Promise.all(gone).then(() => true), config.shutdownTimeoutMs, false))) {
      for (const connection of connections) connection.terminate();
      await Promise.all(gone);
    }
    http.closeAllConnections();
    wss.close();
    await stopped;
    await keyvalue?.store.close();
    log.info('stopped');
  }

  const server: ResobridgeServer = {
    config,
    endpoints,
    get address() {
      const address = http.address();
      return address && typeof address === 'object' ? address : null;
    },
    async listen() {
      const store = await openStore(config.store);
      keyvalue = new KeyValue(store, { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes, maxKeysListed: MAX_KEYS_LISTED });
      log.info({ store: store.description }, 'store opened');
      try {
        return await listenHttp();
      } catch (error) {
        await store.close();
        keyvalue = undefined;
        throw error;
      }
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
    command(verb, spec) {
      commands.register(verb, spec);
      return server;
    },
    endpoint(path, handlers) {
      const taken = route(endpoints, path);
      if ('endpoint' in taken) throw new Error(`The path ${path} is served already (by ${taken.endpoint.path}).`);
      endpoints.unshift(
        customEndpoint(path, handlers, (error, what, client) => {
          log.error({ err: error, conn: client.connection.id, path }, `endpoint ${path} failed on ${what}`);
          client.send(messages.error(path, error instanceof Error ? error.message : String(error)));
        }),
      );
      return server;
    },
    onConnect(hook) {
      hooks.connect.push(hook);
      return server;
    },
    onDisconnect(hook) {
      hooks.disconnect.push(hook);
      return server;
    },
    publish(channel, text, from = 'server') {
      hub.publish({ type: 'message', channel, senderName: from, text });
    },
    store(ns = DEFAULT_NAMESPACE) {
      if (!keyvalue) throw new Error('The store opens in listen(); call store() after listen() has resolved.');
      return scopedStore(keyvalue, ns);
    },
  };

  function listenHttp(): Promise<AddressInfo> {
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => reject(explainListenError(error, config.host, config.port));
      http.once('error', onError);
      http.listen(config.port, config.host, () => {
        http.off('error', onError);
        http.on('error', (error) => log.error({ err: error }, 'server error'));
        keepalive = new Keepalive(() => connections, config.pingIntervalMs, config.maxMissedPongs, (connection) =>
          log.info({ conn: connection.id, path: connection.path, missedPongs: connection.missedPongs }, 'dropping unresponsive client'),
        );
        resolve(http.address() as AddressInfo);
      });
    });
  }

  return server;
}
