/**
 * createServer: the HTTP + WebSocket server, assembled from the config. The
 * CLI's `serve` is exactly this; tests and users embed it the same way, and
 * add their own commands, hooks and endpoints.
 *
 * Flow: socket → Connection → endpoint session → hub / commands → Connection(s).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { z } from 'zod';
import { Access } from '../auth/access.js';
import type { TOKENS_SCHEMA } from '../auth/token-spec.js';
import type { Bridge, BridgeStatus } from '../bridges/bridge.js';
import { execEndpoint, type ExecSpec } from '../bridges/exec.js';
import { createBridge, type BridgeSpecInput } from '../bridges/registry.js';
import type { Args } from '../app/args.js';
import { registerBuiltins } from '../app/builtins.js';
import { scopedStore, type ConnectionContext, type ScopedStore } from '../app/client.js';
import { commandEndpoint } from '../app/command-endpoint.js';
import { valueEndpoint } from '../app/value-endpoint.js';
import { Commands, type CommandSpec } from '../app/commands.js';
import { customEndpoint, type EndpointHandlers } from '../app/custom-endpoint.js';
import { ConfigError, OpenToNetworkError } from '../config/errors.js';
import { createDashboard, DASHBOARD_DISABLED, type Dashboard } from '../dashboard/dashboard.js';
import type { Config } from '../config/fields.js';
import { resolveConfig } from '../config/load.js';
import { Hub } from '../hub/hub.js';
import { createBroker } from '../hub/open-broker.js';
import { createLogger, type Logger } from '../log/logger.js';
import { withNotices } from '../log/notices.js';
import { ThrottledLog } from '../log/throttled.js';
import { messages } from '../protocol/messages.js';
import { Metrics } from '../metrics/metrics.js';
import { KeyValue } from '../store/keyvalue.js';
import { openStore } from '../store/open-store.js';
import { redactPath } from '../util/redact-url.js';
import { within } from '../util/timeout.js';
import { VERSION } from '../version.js';
import { accept, acceptOptions, ClientSocket, type AcceptContext } from './accept.js';
import { ApiOperations } from './api-operations.js';
import { Waits } from './waits.js';
import { CloseCode, type Connection } from './connection.js';
import type { Endpoint } from './endpoint.js';
import { channelEndpoint } from './endpoints/channel.js';
import { echoEndpoint } from './endpoints/echo.js';
import { browserPolicy } from './browser-guard.js';
import { decide } from './handshake.js';
import { httpHandler } from './http-handler.js';
import { refuseUpgrade } from './http-pages.js';
import { InboundLimits } from './inbound-limits.js';
import { Keepalive } from './keepalive.js';
import { explainListenError } from './listen-error.js';
import { DEFAULT_NAMESPACE } from './query-options.js';
import { route } from './router.js';
import { openFileLimit, socketBudget } from './socket-budget.js';
import { SocketGuard } from './socket-guard.js';
import { readTls } from './tls.js';
import { endpointUrls, isLoopback, reachableBases } from './urls.js';

export interface ServerOptions extends Partial<Omit<Config, 'bridges' | 'tokens'>> {
  /** Where logs go; by default one is made from logLevel and logFormat. */
  logger?: Logger;
  /** As in the config file: settings with defaults may be left out. */
  bridges?: BridgeSpecInput[];
  tokens?: z.input<typeof TOKENS_SCHEMA>;
}

export type ConnectionHook = (context: ConnectionContext) => void | Promise<void>;

export interface ResobridgeServer {
  readonly config: Config;
  readonly endpoints: readonly Endpoint[];
  /** Where it listens, once listen() has resolved. */
  readonly address: AddressInfo | null;
  /** True when serving wss:// (tlsCert and tlsKey set). */
  readonly secure: boolean;
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
  /** Reads tlsCert and tlsKey again (after a renewal) without dropping connections; the CLI does this on SIGHUP. */
  reloadTls(): void;
  /** Each configured bridge and how it is doing. */
  bridges(): BridgeStatus[];
  /** The dashboard at http://HOST:PORT/: open (loopback), behind an admin token, or off (with why). */
  readonly dashboard: { state: 'open' | 'token' | 'off'; reason?: string };
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
  const config = resolveConfig(settings as Partial<Config>);
  const access = new Access(config.tokens);
  const browser = browserPolicy(config, access);
  if (access.open && !isLoopback(config.host) && !config.allowAnonymous) {
    throw new OpenToNetworkError(config.host);
  }
  const tls = readTls(config.tlsCert, config.tlsKey);
  // Lines logged with a reason (refusals, closes) are shown in the dashboard's log tab too.
  const notices: { to?: Dashboard['notice'] } = {};
  const log = withNotices(givenLogger ?? createLogger(config), (notice) => notices.to?.(notice));
  const startedAt = Date.now();
  const broker = createBroker(
    config.broker,
    { maxHistory: config.maxHistory, budget: { totalBytes: config.maxHistoryBytes, channelBytes: config.maxChannelHistoryBytes } },
    log,
  );
  const hub = new Hub(broker, (error, channel) =>
    log.error({ err: error, channel }, 'channel broker failed'),
  );
  const commands = new Commands();
  registerBuiltins(commands, config.maxHistory);
  const endpoints: Endpoint[] = [echoEndpoint, channelEndpoint(hub, config.maxHistory), valueEndpoint(), commandEndpoint(commands, log)];
  const execSpecs: ExecSpec[] = config.bridges.filter((spec): spec is ExecSpec => spec.type === 'exec');
  if (config.exec) {
    const [path = '', ...command] = config.exec.split('=');
    execSpecs.push({ type: 'exec', path, command: command.join('='), stderr: 'log' });
  }
  for (const spec of execSpecs) {
    if ('endpoint' in route(endpoints, spec.path)) throw new ConfigError(`The exec bridge's path ${spec.path} is taken by another endpoint; pick another path.`);
    endpoints.unshift(execEndpoint(spec, config.maxMessageBytes, log));
  }
  const bridgeContext = { hub, log, keyvalue: () => keyvalue, commands, maxMessageBytes: config.maxMessageBytes };
  const bridges: Bridge[] = config.bridges.flatMap((spec) => createBridge(spec, bridgeContext) ?? []);
  const bridgeStatus = (): BridgeStatus[] => [
    ...execSpecs.map((spec) => ({ name: spec.path, type: 'exec', state: 'running' as const, detail: `"${spec.command}" for each connection` })),
    ...bridges.map((bridge) => bridge.status()),
  ];
  const hooks = { connect: [] as ConnectionHook[], disconnect: [] as ConnectionHook[] };
  const connections = new Set<Connection>();
  const budget = socketBudget(config.maxConnections, openFileLimit());
  const limits = new InboundLimits({ ...config, maxConnections: budget.webSockets });
  let keyvalue: KeyValue | undefined;
  const metrics = new Metrics({ connections: () => connections, channels: () => hub.channelCount, historyBytes: () => hub.historyBytes, bridges: bridgeStatus });
  // permessage-deflate stays off: compression would cost CPU per client, and Connection writes frames beside ws (see connection.ts).
  const wss = new WebSocketServer({ noServer: true, maxPayload: readLimit(config.maxMessageBytes), perMessageDeflate: false, WebSocket: ClientSocket });
  // Not ok (and so 503, for load balancers) while shutting down, or while cut off from the other nodes.
  const health = () => ({
    status: closing ? 'shutting down' : broker.reachable ? 'ok' : 'broker unreachable',
    broker: { description: broker.description, state: broker.reachable ? 'connected' : 'unreachable' },
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    connections: connections.size,
    channels: hub.channelCount,
    /** Bytes of channel history held in memory (within maxHistoryBytes). */
    historyBytes: hub.historyBytes,
    /** Messages waiting in pacers, and dropped so far by pacing, over all open connections. */
    queued: sum(connections, (connection) => connection.queued),
    /** Bytes waiting for clients (pacers and socket buffers), bounded per client by maxQueuedBytes. */
    queuedBytes: sum(connections, (connection) => connection.queuedBytes),
    dropped: sum(connections, (connection) => connection.dropped),
    bridges: bridgeStatus(),
  });
  const dashboard: Dashboard | undefined = createDashboard({
    config,
    access,
    hub,
    connections: () => connections,
    keyvalue: () => keyvalue,
    bridges: bridgeStatus,
    log,
    hello: () => {
      const address = server.address;
      const bases = address ? reachableBases(config.host, address, tls !== undefined).map(({ base }) => base) : [];
      return { version: VERSION, startedAt, bases, endpoints: endpointUrls(bases[0] ?? '', endpoints), store: keyvalue?.store.description ?? '', broker: broker.description };
    },
  });
  notices.to = dashboard?.notice;
  const operations = new ApiOperations({
    hub,
    keyvalue: () => keyvalue,
    connections: () => connections,
    maxHistory: config.maxHistory,
    maxMessageBytes: config.maxMessageBytes,
    waits: new Waits(),
  });
  const handler = httpHandler(endpoints, { health, metrics: () => metrics.registry }, tls !== undefined, {
    access,
    operations,
    mcp: config.mcp,
    maxMessageBytes: config.maxMessageBytes,
    limits,
    trustProxy: config.trustProxy,
    browser,
    log,
  }, dashboard);
  // Answer every request promptly; never leave a half-open handshake hanging. Node checks these timeouts
  // every connectionsCheckingInterval (30 s by default, so a slow handshake lived up to 40 s): every second here.
  const timeouts = { headersTimeout: 10_000, requestTimeout: 15_000, connectionsCheckingInterval: 1_000 };
  const http: HttpServer | HttpsServer = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, handshakeTimeout: 10_000, ...timeouts }, handler)
    : createHttpServer(timeouts, handler);
  // Every socket is a file descriptor: past this many, new ones are closed at once (logged below), so the process keeps descriptors to work with.
  http.maxConnections = budget.sockets;
  const throttled = new ThrottledLog(log);
  http.on('drop', (data?: { remoteAddress?: string }) =>
    throttled.warn('drop', { remote: data?.remoteAddress, sockets: budget.sockets }, 'socket refused: the server holds as many sockets as it may (maxConnections, open-file limit)'),
  );
  // Behind your own proxy every socket comes from the proxy: the proxy has to guard against slow requests.
  const guard = new SocketGuard(config.trustProxy ? Number.POSITIVE_INFINITY : config.maxPendingSocketsPerAddress, tls !== undefined, (remote, pending) =>
    throttled.warn('pending', { remote, pending }, 'socket refused: too many unfinished requests from one address (maxPendingSocketsPerAddress)'),
  );
  guard.attach(http);
  let keepalive: Keepalive | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;

  const runHooks = (client: ConnectionContext, what: 'connect' | 'disconnect') => {
    for (const hook of hooks[what]) {
      const failed = (error: unknown) => log.error({ err: error, conn: client.connection.id }, `${what} hook failed`);
      try {
        Promise.resolve(hook(client)).catch(failed);
      } catch (error) {
        failed(error);
      }
    }
  };

  /** What every connection is accepted with: made once per store (one per listen), not per connection. */
  let accepting: AcceptContext | undefined;
  const acceptContext = (store: KeyValue): AcceptContext =>
    accepting?.services.keyvalue === store
      ? accepting
      : (accepting = {
          config,
          log,
          services: { hub, keyvalue: store, maxHistory: config.maxHistory },
          limits,
          connections,
          options: acceptOptions(config, log),
          hooks: runHooks,
          metrics,
          watcher: dashboard?.watcher,
        });
  // One listener for every socket (a closure per socket would live as long as the connection).
  const onSocketError = (error: Error) => log.debug({ err: error }, 'socket error');
  http.on('upgrade', (req, socket: Socket, head: Buffer) => {
    guard.done(socket);
    socket.on('error', onSocketError);
    if (dashboard && !closing && dashboard.upgrade(req, socket, head)) return;
    const store = keyvalue;
    if (closing || !store) {
      const reason = 'The server is not running right now (starting or stopping). Try again in a moment.';
      log.info({ path: redactPath((req.url ?? '/').split('?')[0] ?? '/'), remote: socket.remoteAddress, status: 503, reason }, 'handshake refused');
      metrics.handshakeFailures.inc({ reason: '503' });
      return refuseUpgrade(socket, 503, reason);
    }
    let decision: ReturnType<typeof decide>;
    try {
      decision = decide(req, socket, { endpoints, access, limits, trustProxy: config.trustProxy, browser });
    } catch (error) {
      // A request line no URL parser accepts: refuse it, never let it reach the process.
      const reason = 'The request could not be read. Connect to a URL like ws://HOST:PORT/echo.';
      log.info({ err: (error as Error).message, remote: socket.remoteAddress, status: 400, reason }, 'handshake refused: unreadable request');
      metrics.handshakeFailures.inc({ reason: '400' });
      return refuseUpgrade(socket, 400, reason);
    }
    if (!decision.ok) {
      log.info({ path: decision.path, remote: decision.remoteAddress, status: decision.status, reason: decision.loggedReason }, 'handshake refused');
      metrics.handshakeFailures.inc({ reason: String(decision.status) });
      return refuseUpgrade(socket, decision.status, decision.reason);
    }
    const admitted = decision.admitted;
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        accept(ws, socket, admitted, acceptContext(store));
      } catch (error) {
        // A bug in setting up one connection costs that connection, never the server.
        log.error({ err: error, path: redactPath(admitted.path) }, 'could not set up a connection');
        ws.terminate();
      }
    });
  });

  async function shutdown(): Promise<void> {
    closing = true;
    keepalive?.stop();
    dashboard?.close();
    // Still listening while clients are told and closed: /healthz answers 503 "shutting down" (load
    // balancers take the node out) and new handshakes get a 503 that says why, not a refused connection.
    const open = [...connections];
    const gone = open.map((connection) => connection.closed);
    await Promise.all(open.map((connection) => connection.close(CloseCode.goingAway, 'server shutting down', messages.server('shutting down'))));
    // Each connection cuts a client that does not answer its close frame (CLOSE_HANDSHAKE_MS);
    // shutdownTimeoutMs bounds the whole wait in case something else holds a socket open.
    if (!(await within(Promise.all(gone).then(() => true), config.shutdownTimeoutMs, false))) {
      log.warn({ connections: connections.size, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out: cutting the connections still open');
      for (const connection of connections) connection.terminate(`server shutting down: the client did not answer the close within ${config.shutdownTimeoutMs} ms`);
      await Promise.all(gone);
    }
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    wss.close();
    await stopped;
    await Promise.all(bridges.map((bridge) => bridge.stop()));
    await broker.close();
    await keyvalue?.store.close();
    log.info('stopped');
  }

  const server: ResobridgeServer = {
    config,
    endpoints,
    secure: tls !== undefined,
    get address() {
      const address = http.address();
      return address && typeof address === 'object' ? address : null;
    },
    async listen() {
      const store = await openStore(config.store, { maxKeysPerNamespace: config.maxKeysPerNamespace, maxBytes: config.maxStoreBytes });
      keyvalue = new KeyValue(
        store,
        { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes, maxKeysListed: MAX_KEYS_LISTED },
        (operation, seconds) => metrics.storeSeconds.observe({ operation }, seconds),
      );
      log.info({ store: store.description }, 'store opened');
      try {
        await connectBroker(keyvalue);
        const address = await listenHttp();
        for (const bridge of bridges) bridge.start();
        return address;
      } catch (error) {
        await broker.close();
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
    bridges: bridgeStatus,
    dashboard: dashboard?.state ?? DASHBOARD_DISABLED,
    reloadTls() {
      const files = readTls(config.tlsCert, config.tlsKey);
      if (!files || !('setSecureContext' in http)) return;
      http.setSecureContext({ cert: files.cert, key: files.key });
      log.info('TLS certificate reloaded');
    },
    store(ns = DEFAULT_NAMESPACE) {
      if (!keyvalue) throw new Error('The store opens in listen(); call store() after listen() has resolved.');
      return scopedStore(keyvalue, ns);
    },
  };

  /** Other nodes hear of this node's key changes, and this node's watchers of theirs. */
  async function connectBroker(store: KeyValue): Promise<void> {
    await broker.connect();
    store.onChange = (ns, key, value) => broker.publishKey({ ns, key, value });
    broker.onRemoteKey = ({ ns, key, value }) => store.changedElsewhere(ns, key, value);
    if (config.broker === 'memory') return;
    log.info({ broker: broker.description }, 'broker connected');
    if (!config.store.startsWith('postgres')) log.warn('with several nodes, use a store they share (--store postgres://…), or each node keeps its own keys');
  }

  function listenHttp(): Promise<AddressInfo> {
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => reject(explainListenError(error, config.host, config.port));
      http.once('error', onError);
      http.listen(config.port, config.host, () => {
        http.off('error', onError);
        http.on('error', (error) => log.error({ err: error }, 'server error'));
        if (budget.warning) log.warn(budget.warning);
        keepalive = new Keepalive(() => connections, config.pingIntervalMs, config.maxMissedPongs, (connection) =>
          log.info({ conn: connection.id, path: connection.shownPath, missedPongs: connection.missedPongs }, 'dropping unresponsive client'),
        );
        resolve(http.address() as AddressInfo);
      });
    });
  }

  return server;
}

function sum<T>(items: Iterable<T>, value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
