/**
 * A Home Assistant WebSocket API double, following the documented protocol
 * (developers.home-assistant.io/docs/api/websocket) and what HA's
 * websocket_api does (homeassistant/components/websocket_api: auth.py,
 * connection.py, commands.py), literally:
 * - On connect: {"type":"auth_required","ha_version":…}. The first message must be
 *   {"type":"auth","access_token":…} within 10 s (else HA disconnects); a wrong
 *   token gets {"type":"auth_invalid","message":"Invalid access token or password"},
 *   a malformed one "Auth message incorrectly formatted: …", and the socket closes.
 *   A right one gets {"type":"auth_ok","ha_version":…}.
 * - Command phase: each message needs an integer id and a type ("Message incorrectly
 *   formatted." / invalid_format); an id not above the last one handled gets
 *   {"success":false,"error":{"code":"id_reuse","message":"Identifier values have to increase."}};
 *   an unknown type "Unknown command." / unknown_command.
 * - subscribe_events (result null, then events with the subscription's id),
 *   unsubscribe_events, get_states (full state objects), ping → pong,
 *   call_service: an unknown service gets not_found "Service <domain>.<service> not found.";
 *   bad data invalid_format with voluptuous's sentence; a missing entity is
 *   NOT an error in HA (it logs "Referenced entities … are missing" and
 *   answers success), so it is not here either. A call that changes an entity
 *   fires state_changed before the result, as HA's blocking call does; one that
 *   changes nothing fires nothing.
 * Failure modes: a wrong token, dropping every connection, being down (each
 * connection cut at once), revoking the token (HA closes its sockets), and no
 * longer answering pings.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export const HA_VERSION = '2026.4.0';

export interface EntityState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed: string;
  last_reported: string;
  last_updated: string;
  context: { id: string; parent_id: null; user_id: string | null };
}

type Message = Record<string, unknown>;

/** Services the double knows, per domain; what each does to the state. */
const SERVICES: Record<string, Record<string, (state: string) => string>> = {
  light: { turn_on: () => 'on', turn_off: () => 'off', toggle: (s) => (s === 'on' ? 'off' : 'on') },
  switch: { turn_on: () => 'on', turn_off: () => 'off', toggle: (s) => (s === 'on' ? 'off' : 'on') },
  input_boolean: { turn_on: () => 'on', turn_off: () => 'off', toggle: (s) => (s === 'on' ? 'off' : 'on') },
  cover: { open_cover: () => 'open', close_cover: () => 'closed', toggle: (s) => (s === 'open' ? 'closed' : 'open') },
};

interface Session {
  socket: WebSocket;
  authenticated: boolean;
  lastId: number;
  /** Subscription ids to state_changed (or all events). */
  subscriptions: Set<number>;
}

export class HomeAssistantDouble {
  /** Sockets opened. */
  connections = 0;
  /** auth messages received, and how many were refused. */
  logins = 0;
  refusedLogins = 0;
  /** id_reuse errors sent (a client that follows the protocol never causes one). */
  idReuses = 0;
  /** invalid_format and unknown_command errors sent. */
  malformed = 0;
  /** subscribe_events and get_states received, over all connections. */
  subscribes = 0;
  stateReads = 0;
  pings = 0;
  /** call_service messages received, as sent. */
  readonly calls: Message[] = [];
  answerPings = true;
  /** While true, a new connection is cut at once (HA restarting, a proxy in front of it that is up). */
  down = false;
  private readonly sessions = new Set<Session>();
  private readonly states = new Map<string, EntityState>();

  private constructor(
    private readonly server: WebSocketServer,
    public token: string,
  ) {}

  static async start(token: string, entities: Record<string, { state: string; attributes?: Record<string, unknown> }> = {}): Promise<HomeAssistantDouble> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/api/websocket' });
    await once(server, 'listening');
    const double = new HomeAssistantDouble(server, token);
    for (const [entityId, { state, attributes = {} }] of Object.entries(entities)) double.states.set(entityId, makeState(entityId, state, attributes));
    server.on('connection', (socket) => double.accept(socket));
    return double;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** ws://127.0.0.1:<port>/api/websocket */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/api/websocket`;
  }

  /** Open, logged-in connections. */
  get authenticatedSessions(): number {
    return [...this.sessions].filter((session) => session.authenticated).length;
  }

  state(entityId: string): EntityState | undefined {
    return this.states.get(entityId);
  }

  /** Changes (or adds; null removes) an entity as a device would, firing state_changed if anything changed. */
  setState(entityId: string, state: string | null, attributes?: Record<string, unknown>): void {
    const old = this.states.get(entityId) ?? null;
    if (state === null) {
      if (!old) return;
      this.states.delete(entityId);
      this.fire(entityId, old, null);
      return;
    }
    const nextAttributes = attributes ?? old?.attributes ?? {};
    if (old && old.state === state && JSON.stringify(old.attributes) === JSON.stringify(nextAttributes)) return;
    const now = new Date().toISOString();
    const next: EntityState = {
      ...makeState(entityId, state, nextAttributes),
      last_changed: old && old.state === state ? old.last_changed : now,
    };
    this.states.set(entityId, next);
    this.fire(entityId, old, next);
  }

  /** Closes every connection, as a restarting HA does. */
  dropConnections(): void {
    for (const session of this.sessions) session.socket.close(1001);
  }

  /** Revokes the token: HA closes the sockets that logged in with it, and refuses it from now on. */
  revokeToken(): void {
    this.token = `revoked-${randomUUID()}`;
    for (const session of this.sessions) if (session.authenticated) session.socket.close(1000);
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    this.connections++;
    if (this.down) return socket.terminate();
    const session: Session = { socket, authenticated: false, lastId: 0, subscriptions: new Set() };
    this.sessions.add(session);
    socket.on('close', () => this.sessions.delete(session));
    socket.on('error', () => {});
    const authTimer = setTimeout(() => socket.close(), 10_000);
    socket.on('close', () => clearTimeout(authTimer));
    this.send(session, { type: 'auth_required', ha_version: HA_VERSION });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.close();
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return socket.close();
      }
      if (!session.authenticated) {
        clearTimeout(authTimer);
        return this.login(session, message);
      }
      for (const one of Array.isArray(message) ? message : [message]) this.handle(session, one);
    });
  }

  private login(session: Session, message: unknown): void {
    const auth = message as Message;
    if (typeof auth !== 'object' || auth === null || auth.type !== 'auth' || (auth.access_token !== undefined && typeof auth.access_token !== 'string')) {
      this.send(session, { type: 'auth_invalid', message: 'Auth message incorrectly formatted: expected auth message' });
      session.socket.close();
      return;
    }
    this.logins++;
    if (auth.access_token !== this.token) {
      this.refusedLogins++;
      this.send(session, { type: 'auth_invalid', message: 'Invalid access token or password' });
      session.socket.close();
      return;
    }
    session.authenticated = true;
    this.send(session, { type: 'auth_ok', ha_version: HA_VERSION });
  }

  private handle(session: Session, raw: unknown): void {
    const message = raw as Message;
    if (typeof message !== 'object' || message === null || !Number.isInteger(message.id) || typeof message.type !== 'string') {
      this.malformed++;
      return this.send(session, error((message as Message | null)?.id ?? null, 'invalid_format', 'Message incorrectly formatted.'));
    }
    const id = message.id as number;
    if (id <= session.lastId) {
      this.idReuses++;
      return this.send(session, error(id, 'id_reuse', 'Identifier values have to increase.'));
    }
    this.command(session, id, message);
    session.lastId = id;
  }

  private command(session: Session, id: number, message: Message): void {
    switch (message.type) {
      case 'ping':
        this.pings++;
        if (this.answerPings) this.send(session, { id, type: 'pong' });
        return;
      case 'subscribe_events':
        this.subscribes++;
        // Only state_changed is ever fired here; a subscription to another type gets none.
        if (message.event_type === undefined || message.event_type === 'state_changed') session.subscriptions.add(id);
        return this.send(session, result(id, null));
      case 'unsubscribe_events':
        if (!session.subscriptions.delete(message.subscription as number)) return this.send(session, error(id, 'not_found', 'Subscription not found.'));
        return this.send(session, result(id, null));
      case 'get_states':
        this.stateReads++;
        return this.send(session, result(id, [...this.states.values()]));
      case 'call_service':
        this.calls.push(message);
        return this.callService(session, id, message);
      default:
        this.malformed++;
        return this.send(session, error(id, 'unknown_command', 'Unknown command.'));
    }
  }

  private callService(session: Session, id: number, message: Message): void {
    const { domain, service } = message;
    if (typeof domain !== 'string' || typeof service !== 'string') {
      return this.send(session, error(id, 'invalid_format', `required key not provided @ data['${typeof domain !== 'string' ? 'domain' : 'service'}']`));
    }
    const apply = SERVICES[domain]?.[service];
    if (!apply) return this.send(session, error(id, 'not_found', `Service ${domain}.${service} not found.`));
    const data = (message.service_data ?? {}) as Message;
    const brightness = data.brightness;
    if (brightness !== undefined && (!Number.isInteger(brightness) || (brightness as number) < 0 || (brightness as number) > 255)) {
      return this.send(session, error(id, 'invalid_format', `expected int for dictionary value @ data['brightness']`));
    }
    const target = ((message.target ?? {}) as Message).entity_id ?? data.entity_id;
    const entityIds = typeof target === 'string' ? [target] : Array.isArray(target) ? (target as string[]) : [];
    for (const entityId of entityIds) {
      const old = this.states.get(entityId);
      // HA: a missing entity is only a warning in its log.
      if (!old || !entityId.startsWith(`${domain}.`)) continue;
      const state = apply(old.state);
      const attributes = { ...old.attributes };
      if (brightness !== undefined) attributes.brightness = brightness;
      if (domain === 'light' && state === 'off') attributes.brightness = null;
      else if (domain === 'light' && attributes.brightness === null) attributes.brightness = 255;
      this.setState(entityId, state, attributes);
    }
    this.send(session, result(id, { context: { id: randomUUID().replaceAll('-', ''), parent_id: null, user_id: 'double-user' } }));
  }

  private fire(entityId: string, old: EntityState | null, now: EntityState | null): void {
    const event = {
      event_type: 'state_changed',
      data: { entity_id: entityId, old_state: old, new_state: now },
      origin: 'LOCAL',
      time_fired: new Date().toISOString(),
      context: now?.context ?? old?.context,
    };
    for (const session of this.sessions) {
      for (const subscription of session.subscriptions) this.send(session, { id: subscription, type: 'event', event });
    }
  }

  private send(session: Session, message: Message): void {
    if (session.socket.readyState === session.socket.OPEN) session.socket.send(JSON.stringify(message));
  }
}

function makeState(entityId: string, state: string, attributes: Record<string, unknown>): EntityState {
  const now = new Date().toISOString();
  return { entity_id: entityId, state, attributes, last_changed: now, last_reported: now, last_updated: now, context: { id: randomUUID().replaceAll('-', ''), parent_id: null, user_id: null } };
}

function result(id: number, value: unknown): Message {
  return { id, type: 'result', success: true, result: value };
}

function error(id: unknown, code: string, message: string): Message {
  return { id, type: 'result', success: false, error: { code, message } };
}
