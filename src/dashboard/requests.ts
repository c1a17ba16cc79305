/**
 * What the page asks, checked before anything is done with it, and doing it:
 * send to a connection, publish to a channel, browse and change the store.
 */
import { z } from 'zod';
import type { Hub } from '../hub/hub.js';
import { RequestError } from '../protocol/request-error.js';
import type { KeyValue } from '../store/keyvalue.js';
import type { Connection } from '../server/connection.js';
import { CHANNEL_NAME, CHANNEL_NAME_RULE } from '../server/endpoints/channel.js';
import { NAMESPACE } from '../server/query-options.js';
import { NAME_RULE } from '../protocol/names.js';
import { findConnection } from './views.js';
import type { KeyValueRow, PageRequest } from './wire.js';

const id = z.number().int();
const ns = z.string().regex(NAMESPACE, `a namespace is ${NAME_RULE}`);

export const PAGE_REQUEST = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().max(1_000) }),
  z.object({
    type: z.literal('view'),
    offset: z.number().int().min(0),
    limit: z.number().int().min(1).max(500),
    filter: z.string().max(200),
    selected: z.string().max(20).nullable(),
  }),
  z.object({ type: z.literal('send'), id, conn: z.string().max(20), text: z.string() }),
  z.object({ type: z.literal('publish'), id, channel: z.string().regex(CHANNEL_NAME, `a channel name is ${CHANNEL_NAME_RULE}`), text: z.string() }),
  z.object({ type: z.literal('keys'), id, ns, prefix: z.string().max(4_096) }),
  z.object({ type: z.literal('set'), id, ns, key: z.string().min(1), value: z.string() }),
  z.object({ type: z.literal('delete'), id, ns, key: z.string().min(1) }),
]) satisfies z.ZodType<PageRequest>;

export type Action = Exclude<PageRequest, { type: 'auth' } | { type: 'view' }>;

export interface ActionContext {
  connections: () => Iterable<Connection>;
  hub: Hub;
  keyvalue: () => KeyValue | undefined;
  maxMessageBytes: number;
  /** Tells the log what the page sent to a connection. */
  sent(connection: Connection, text: string): void;
}

/** The sender name of messages published from the dashboard. */
export const DASHBOARD_SENDER = 'dashboard';

/** Does what the page asked; throws RequestError with a message for the page when it cannot. */
export async function perform(action: Action, context: ActionContext): Promise<unknown> {
  if ((action.type === 'send' || action.type === 'publish') && Buffer.byteLength(action.text) > context.maxMessageBytes) {
    throw new RequestError(`the text is over ${context.maxMessageBytes} bytes, this server's message size limit`);
  }
  switch (action.type) {
    case 'send': {
      const connection = findConnection(context.connections(), action.conn);
      if (!connection?.send(action.text)) throw new RequestError(`connection ${action.conn} has closed`);
      context.sent(connection, action.text);
      return undefined;
    }
    case 'publish':
      context.hub.publish({ type: 'message', channel: action.channel, senderName: DASHBOARD_SENDER, text: action.text });
      return undefined;
    default:
      return store(action, context);
  }
}

async function store(action: Extract<Action, { ns: string }>, context: ActionContext): Promise<unknown> {
  const keyvalue = context.keyvalue();
  if (!keyvalue) throw new RequestError('the store is not open (the server is starting or stopping)');
  switch (action.type) {
    case 'keys': {
      const keys = await keyvalue.keys(action.ns, action.prefix);
      const values = await Promise.all(keys.map((key) => keyvalue.get(action.ns, key)));
      return keys.map((key, i): KeyValueRow => ({ key, value: values[i] ?? null }));
    }
    case 'set':
      await keyvalue.set(action.ns, action.key, action.value);
      return undefined;
    case 'delete':
      return { deleted: await keyvalue.delete(action.ns, action.key) };
  }
}
