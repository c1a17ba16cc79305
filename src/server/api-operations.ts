/**
 * What the HTTP API (and the server's own /mcp endpoint) may do, checked
 * against the caller's token: each operation takes the grant and answers a
 * status and a body, so the HTTP routes only parse requests, and an agent
 * connected to /mcp gets exactly the same answers and refusals as curl.
 */
import { clip } from '../protocol/clip.js';
import { ownCopy } from '../util/own-copy.js';
import { mayChannel, mayListConnections, mayUse, mayWriteKeys, type Grant } from '../auth/access.js';
import type { Hub } from '../hub/hub.js';
import type { KeyValue } from '../store/keyvalue.js';
import { CHANNEL_NAME, CHANNEL_NAME_RULE } from './endpoints/channel.js';
import { NAME_RULE } from '../protocol/names.js';
import { reservedReason, reservedTag } from '../protocol/reserved.js';
import { NAMESPACE } from './query-options.js';
import type { Connection } from './connection.js';
import type { Waits } from './waits.js';

export type Reply = { status: number; body: Record<string, unknown> | string };

export const fail = (status: number, error: string): Reply => ({ status, body: { ok: false, error } });

/** Most channels, members and connections one answer lists (the total is always given). */
export const MAX_LISTED = 100;
/** Longest a wait for the next message may be asked to take (under MCP clients' usual 60 s request timeout). */
export const MAX_WAIT_SECONDS = 50;
export const DEFAULT_WAIT_SECONDS = 25;
/** Messages a history read answers with when no limit is asked for. */
export const DEFAULT_HISTORY = 20;

export interface OperationsContext {
  hub: Hub;
  keyvalue: () => KeyValue | undefined;
  connections: () => Iterable<Connection>;
  maxHistory: number;
  maxMessageBytes: number;
  waits: Waits;
}

export class ApiOperations {
  constructor(private readonly context: OperationsContext) {}

  /** Channels with members on this server node that the token may read, each with who is in it (on every node). */
  async channels(grant: Grant): Promise<Reply> {
    const names = [...this.context.hub.localMembers()].map(([channel]) => channel).filter((channel) => mayChannel(grant, channel, 'read')).sort();
    const channels = await Promise.all(
      names.slice(0, MAX_LISTED).map(async (channel) => {
        const members = await this.context.hub.members(channel);
        return { channel, total: members.length, members: members.slice(0, MAX_LISTED) };
      }),
    );
    return { status: 200, body: { ok: true, total: names.length, channels } };
  }

  async members(grant: Grant, channel: string): Promise<Reply> {
    const refused = this.refuseChannel(grant, channel, 'read');
    if (refused) return refused;
    const members = await this.context.hub.members(channel);
    return { status: 200, body: { ok: true, channel, total: members.length, members: members.slice(0, MAX_LISTED) } };
  }

  /** The channel's last `limit` messages, oldest first. */
  async history(grant: Grant, channel: string, limit = DEFAULT_HISTORY): Promise<Reply> {
    const refused = this.refuseChannel(grant, channel, 'read');
    if (refused) return refused;
    if (!Number.isInteger(limit) || limit < 1 || limit > Math.max(1, this.context.maxHistory)) {
      return fail(400, `limit must be a whole number from 1 to ${Math.max(1, this.context.maxHistory)} (this server's maxHistory)`);
    }
    const events = this.context.maxHistory === 0 ? [] : await this.context.hub.history(channel, limit);
    return { status: 200, body: { ok: true, channel, messages: events.map((event) => ({ from: event.senderName, text: event.text })) } };
  }

  /**
   * The next message anyone publishes in the channel after this is called, or
   * `message: null` after `seconds`. `who` names the caller (its address, its
   * token), each allowed only a few waits at once; `signal` ends the wait when
   * the caller goes away.
   */
  async next(grant: Grant, channel: string, seconds: number, who: readonly string[], signal: AbortSignal): Promise<Reply> {
    const refused = this.refuseChannel(grant, channel, 'read');
    if (refused) return refused;
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_WAIT_SECONDS) return fail(400, `timeout must be a number of seconds from 1 to ${MAX_WAIT_SECONDS}`);
    const busy = this.context.waits.take(who);
    if (busy) return fail(429, busy);
    return new Promise<Reply>((resolve) => {
      const end = (reply: Reply) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        membership.leave();
        this.context.waits.give(who);
        resolve(reply);
      };
      const onAbort = () => end(fail(499, 'the caller went away'));
      const membership = this.context.hub.observe(channel, (event) => end({ status: 200, body: { ok: true, channel, message: { from: event.senderName, text: event.text } } }));
      const timer = setTimeout(() => end({ status: 200, body: { ok: true, channel, message: null, timedOut: true } }), seconds * 1000);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Why the token may not publish there (checked before a body is read), or undefined. */
  refusePublish(grant: Grant, channel: string): Reply | undefined {
    if (!CHANNEL_NAME.test(channel)) return fail(400, `"${clip(channel)}" is not a valid channel name: ${CHANNEL_NAME_RULE}`);
    if (!mayChannel(grant, channel, 'write')) {
      return fail(403, `the token "${grant.name}" may not publish to channel "${channel}": it needs the scope "channel:${channel}" (or a pattern that matches it) in its allow list`);
    }
    return undefined;
  }

  publish(grant: Grant, channel: string, text: string, name: string | undefined): Reply {
    const refused = this.refusePublish(grant, channel);
    if (refused) return refused;
    if (Buffer.byteLength(text) > this.context.maxMessageBytes) return fail(413, `the text is over ${this.context.maxMessageBytes} bytes, this server's message size limit`);
    const reserved = reservedTag(text);
    if (reserved) return fail(400, reservedReason(reserved));
    // A copy: kept in history, a slice would keep the whole (up to 16 KB) name alive.
    const from = ownCopy(name?.slice(0, 64) ?? '') || (grant.name === 'anonymous' ? 'http' : grant.name);
    this.context.hub.publish({ type: 'message', channel, senderName: from, text });
    return { status: 200, body: { ok: true, channel } };
  }

  /** The value as text (404 if none). */
  async getKey(grant: Grant, ns: string, key: string): Promise<Reply> {
    const store = this.keys(grant, ns, 'read');
    if ('status' in store) return store;
    const value = await store.get(ns, key);
    return value === undefined ? fail(404, `no value for "${clip(key)}"`) : { status: 200, body: value };
  }

  async setKey(grant: Grant, ns: string, key: string, value: string): Promise<Reply> {
    const store = this.keys(grant, ns, 'write');
    if ('status' in store) return store;
    await store.set(ns, key, value);
    return { status: 200, body: { ok: true, key } };
  }

  async deleteKey(grant: Grant, ns: string, key: string): Promise<Reply> {
    const store = this.keys(grant, ns, 'write');
    if ('status' in store) return store;
    return { status: 200, body: { ok: true, deleted: await store.delete(ns, key) } };
  }

  /** Keys that start with `prefix` (the store lists at most 100). */
  async listKeys(grant: Grant, ns: string, prefix: string): Promise<Reply> {
    const store = this.keys(grant, ns, 'read');
    if ('status' in store) return store;
    return { status: 200, body: { ok: true, ns, prefix, keys: await store.keys(ns, prefix) } };
  }

  /** This node's open WebSocket connections: who and where, never their addresses or tokens. */
  connections(grant: Grant): Reply {
    if (!mayListConnections(grant)) {
      return fail(403, `the token "${grant.name}" may not list connections: it needs the scope "connections" in its allow list`);
    }
    const all = [...this.context.connections()];
    const connections = all.slice(0, MAX_LISTED).map((connection) => ({
      id: connection.id,
      name: connection.name,
      endpoint: connection.endpoint,
      path: connection.shownPath,
      token: connection.grant.name,
      connectedAt: new Date(connection.connectedAt).toISOString(),
      messagesIn: connection.messagesIn,
      messagesOut: connection.messagesOut,
    }));
    return { status: 200, body: { ok: true, total: all.length, connections } };
  }

  private refuseChannel(grant: Grant, channel: string, want: 'read'): Reply | undefined {
    if (!CHANNEL_NAME.test(channel)) return fail(400, `"${clip(channel)}" is not a valid channel name: ${CHANNEL_NAME_RULE}`);
    if (!mayChannel(grant, channel, want)) {
      return fail(403, `the token "${grant.name}" may not read channel "${channel}": it needs the scope "channel:${channel}:r" (or a pattern that matches it) in its allow list`);
    }
    return undefined;
  }

  /** Why the token may not use keys in `ns` this way (checked before a body is read), or undefined. */
  refuseKeys(grant: Grant, ns: string, want: 'read' | 'write'): Reply | undefined {
    const store = this.keys(grant, ns, want);
    return 'status' in store ? store : undefined;
  }

  private keys(grant: Grant, ns: string, want: 'read' | 'write'): KeyValue | Reply {
    const store = this.context.keyvalue();
    if (!store) return fail(503, 'the server is starting or stopping; try again in a moment');
    if (!NAMESPACE.test(ns)) return fail(400, `ns must be ${NAME_RULE}`);
    if (!mayUse(grant, { kind: 'api', path: '/api' })) return fail(403, `the token "${grant.name}" may not use keys: it needs the scope "api" (or "api:r" to read only) in its allow list`);
    if (want === 'write' && !mayWriteKeys(grant)) return fail(403, `the token "${grant.name}" may only read keys: writing needs the scope "api" in its allow list`);
    return store;
  }
}
