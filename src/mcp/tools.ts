/**
 * The tools an agent gets: look at channels and who is in them, read and wait
 * for messages, publish, use keys, list connections. Each one calls the API
 * and answers its JSON as text; a refusal (a bad channel name, a token without
 * the scope, a server that is down) is an isError result with the server's
 * sentence, so the agent can read what to do.
 */
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { NAME, NAME_RULE } from '../protocol/names.js';
import { RequestError } from '../protocol/request-error.js';
import { StorageFailure } from '../store/store.js';
import { DEFAULT_NAMESPACE } from '../server/query-options.js';
import { DEFAULT_HISTORY, DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from '../server/api-operations.js';
import { Unreachable, type Answer, type ResobridgeApi } from './api.js';

export interface ToolOptions {
  /** Sender name of what the agent publishes when it does not give one (undefined: the token's name). */
  name?: string;
}

/** Most messages one read_messages call asks for (the server's maxHistory may allow fewer). */
const MAX_READ = 100;

const channel = z.string().regex(NAME, `a channel name is ${NAME_RULE}`).describe('the channel name, e.g. lobby');
const ns = z.string().regex(NAME, `a namespace is ${NAME_RULE}`).optional().describe('the key namespace (a world reads its keys in ?ns=…); default "default"');
const key = z.string().min(1, 'the key must not be empty').max(1024, 'a key has at most 1024 characters').describe('the key');

export function registerTools(server: McpServer, api: ResobridgeApi, options: ToolOptions = {}): void {
  server.registerTool(
    'list_channels',
    { description: 'List the channels that have members (worlds, apps) on the server, and who is in each.', inputSchema: {}, annotations: { readOnlyHint: true } },
    () => run(() => api.channels()),
  );
  server.registerTool(
    'channel_members',
    { description: 'Who is in one channel (display names; on every server node).', inputSchema: { channel }, annotations: { readOnlyHint: true } },
    ({ channel }) => run(() => api.members(channel)),
  );
  server.registerTool(
    'read_messages',
    {
      description: "Read a channel's most recent messages, oldest first, each with who sent it.",
      inputSchema: { channel, limit: z.number().int().min(1).max(MAX_READ).optional().describe(`how many (default ${DEFAULT_HISTORY}, at most ${MAX_READ})`) },
      annotations: { readOnlyHint: true },
    },
    ({ channel, limit }) => run(() => api.history(channel, limit ?? DEFAULT_HISTORY)),
  );
  server.registerTool(
    'wait_for_message',
    {
      description:
        'Wait for the next message anyone sends in a channel, and return it; returns message: null if none arrives within the timeout. ' +
        'Use it to hold a conversation: publish, then wait for the answer.',
      inputSchema: {
        channel,
        timeoutSeconds: z.number().min(1).max(MAX_WAIT_SECONDS).optional().describe(`how long to wait, in seconds (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS})`),
      },
      annotations: { readOnlyHint: true },
    },
    ({ channel, timeoutSeconds }, extra) => run(() => api.next(channel, timeoutSeconds ?? DEFAULT_WAIT_SECONDS, extra.signal)),
  );
  server.registerTool(
    'publish',
    {
      description: 'Send a message to everyone in a channel (worlds in it receive the text as it is).',
      inputSchema: {
        channel,
        text: z.string().describe('the message'),
        as: z.string().min(1).max(64).optional().describe('the sender name others see (default: set by whoever runs this MCP server)'),
      },
    },
    ({ channel, text, as }) => run(() => api.publish(channel, text, as ?? options.name)),
  );
  server.registerTool(
    'get_key',
    { description: "Read a key's value from the server's store (value: null if it has none).", inputSchema: { key, ns }, annotations: { readOnlyHint: true } },
    ({ key, ns: namespace }) =>
      run(async () => {
        const answer = await api.getKey(namespace ?? DEFAULT_NAMESPACE, key);
        if (answer.status === 404) return { status: 200, body: { key, value: null } };
        return answer.status === 200 && typeof answer.body === 'string' ? { status: 200, body: { key, value: answer.body } } : answer;
      }),
  );
  server.registerTool(
    'set_key',
    { description: 'Store a value under a key; worlds that watch the key get it at once.', inputSchema: { key, value: z.string().describe('the value'), ns } },
    ({ key, value, ns: namespace }) => run(() => api.setKey(namespace ?? DEFAULT_NAMESPACE, key, value)),
  );
  server.registerTool(
    'delete_key',
    { description: 'Delete a key.', inputSchema: { key, ns }, annotations: { destructiveHint: true } },
    ({ key, ns: namespace }) => run(() => api.deleteKey(namespace ?? DEFAULT_NAMESPACE, key)),
  );
  server.registerTool(
    'list_keys',
    {
      description: 'List the keys that start with a prefix (all keys without one; at most 100).',
      inputSchema: { prefix: z.string().max(1024).optional().describe('only keys starting with this'), ns },
      annotations: { readOnlyHint: true },
    },
    ({ prefix, ns: namespace }) => run(() => api.listKeys(namespace ?? DEFAULT_NAMESPACE, prefix ?? '')),
  );
  server.registerTool(
    'list_connections',
    { description: 'List the open connections (worlds, apps) on the server: name, endpoint, since when, messages each way.', inputSchema: {}, annotations: { readOnlyHint: true } },
    () => run(() => api.connections()),
  );
}

/** Calls the API; an error status or an unreachable server becomes an isError result that says why. */
async function run(call: () => Promise<Answer>): Promise<CallToolResult> {
  let answer: Answer;
  try {
    answer = await call();
  } catch (error) {
    if (error instanceof Unreachable) return failed(error.message);
    // What the store refuses (too big, over quota, failing) says so; anything else is the server's fault.
    return failed(error instanceof RequestError || error instanceof StorageFailure ? error.message : 'the server failed to do that; see its log');
  }
  if (answer.status >= 400) {
    const why = typeof answer.body === 'string' ? answer.body.trim() : String(answer.body.error ?? `status ${answer.status}`);
    return failed(`resobridge refused (${answer.status}): ${why}`);
  }
  if (typeof answer.body === 'string') return text(answer.body);
  // `ok` says nothing an agent needs once isError is false.
  return text(Object.fromEntries(Object.entries(answer.body).filter(([name]) => name !== 'ok')));
}

function text(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 1) }] };
}

function failed(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
