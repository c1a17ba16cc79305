/** An MCP server whose tools act through a resobridge API (over HTTP, or the server's own operations). */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { VERSION } from '../version.js';
import type { ResobridgeApi } from './api.js';
import { registerTools, type ToolOptions } from './tools.js';

const INSTRUCTIONS =
  'resobridge is the WebSocket server that Resonite worlds connect to. Worlds talk in channels: ' +
  'list_channels shows who is where, read_messages the recent conversation, publish speaks in a channel, ' +
  'wait_for_message waits for the next thing said there. Keys (get_key, set_key) hold values that worlds watch.';

export function createMcpServer(api: ResobridgeApi, options: ToolOptions = {}): McpServer {
  const server = new McpServer({ name: 'resobridge', version: VERSION }, { instructions: INSTRUCTIONS });
  registerTools(server, api, options);
  return server;
}
