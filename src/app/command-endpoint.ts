/**
 * Command mode at `/` and `/api`: one command per message, `verb|field|…` or
 * JSON, each answered with one reply (see docs/protocol.md).
 */
import type { Logger } from 'pino';
import { Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { RequestError } from '../protocol/request-error.js';
import { parseRequest, type Request } from '../protocol/request.js';
import type { Value } from '../protocol/values.js';
import type { Endpoint } from '../server/endpoint.js';
import { choice, flag } from '../server/query-options.js';
import type { Client } from './client.js';
import type { CommandContext, Commands } from './commands.js';
import { SerialQueue } from './serial-queue.js';

export const COMMAND_PATHS = ['/', '/api'];
/** Commands one client may have waiting before it is told to slow down. */
const MAX_WAITING = 256;

export function commandEndpoint(commands: Commands, log: Logger) {
  const endpoint: Endpoint<{ format: ReturnType<typeof choice<'line' | 'json'>>; echo: ReturnType<typeof flag>; presence: ReturnType<typeof flag> }> = {
    kind: 'api',
    path: '/api',
    example: '/api?ns=my-world',
    summary: 'command mode: get/set/watch keys, join/pub channels; send help for the list',
    options: { format: choice(['line', 'json']), echo: flag(), presence: flag() },
    match: (pathname) => (COMMAND_PATHS.includes(pathname) ? { params: {} } : undefined),
    open(client, _params, options) {
      client.connection.encoding = options.format;
      client.joinDefaults = { echo: options.echo, presence: options.presence };
      const queue = new SerialQueue(MAX_WAITING);
      return {
        message(text) {
          const parsed = parseRequest(text);
          if (!parsed.ok) return client.send(messages.error(parsed.topic, parsed.error));
          const { request } = parsed;
          if (!queue.push(() => run(request, client))) {
            client.send(messages.error(request.verb, `more than ${MAX_WAITING} commands are waiting; slow down`).withId(request.id));
          }
        },
        close() {},
      };
    },
  };

  async function run(request: Request, client: Client): Promise<void> {
    const context = commandContext(request, client);
    try {
      await commands.run(request, context);
    } catch (error) {
      if (!(error instanceof RequestError)) {
        log.error({ err: error, conn: client.connection.id, verb: request.verb }, 'command failed');
      }
      context.reply(messages.error(request.verb, error instanceof Error ? error.message : String(error)));
    }
  }

  return endpoint;
}

function commandContext(request: Request, client: Client): CommandContext {
  return {
    verb: request.verb,
    id: request.id,
    connection: client.connection,
    store: client.store,
    send: client.send.bind(client),
    publish: client.publish.bind(client),
    join: client.join.bind(client),
    leave: client.leave.bind(client),
    members: client.members.bind(client),
    watch: client.watch.bind(client),
    unwatch: client.unwatch.bind(client),
    reply(message: Message | string, ...values: Value[]) {
      const reply = typeof message === 'string' ? Message.of(message, values) : message;
      client.send(reply.withId(request.id));
    },
  };
}
