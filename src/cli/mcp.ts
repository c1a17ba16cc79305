/**
 * `resobridge mcp`: an MCP server over stdio (what desktop agents launch) that
 * acts in worlds through a running resobridge's HTTP API. stdout carries only
 * MCP messages; anything for a person goes to stderr. The token is never printed.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command, InvalidArgumentError } from 'commander';
import { readSecret } from '../bridges/secret.js';
import { CLIENT_TOKEN_ENV } from '../config/load.js';
import { HttpApiClient } from '../mcp/http-client.js';
import { createMcpServer } from '../mcp/server.js';
import { exitWithUsageCode, ExitCode, fail } from './exit.js';

interface McpFlags {
  url: string;
  token?: string;
  tokenFile?: string;
  name: string;
}

/** The server's HTTP base: http(s) as given; a ws(s):// URL (as put into Resonite) means its server's http(s) origin. */
function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('--url must be the server\'s address, e.g. http://localhost:8778.');
  }
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('--url must start with http:// or https://, e.g. http://localhost:8778.');
  if (url.username || url.password || url.search) throw new InvalidArgumentError('--url must not hold a user, password or ?query: give the token with --token-file or RESOBRIDGE_TOKEN.');
  return url.href;
}

export function mcpCommand(): Command {
  return new Command('mcp')
    .description('let an AI agent (Claude Desktop, any MCP client) act in worlds: an MCP server over stdio that uses a running resobridge')
    .option('--url <url>', 'the resobridge server to use', serverUrl, 'http://localhost:8778')
    .option('--token <token>', `its token, if it has tokens (or set ${CLIENT_TOKEN_ENV}, or use --token-file: a command line is visible to other users)`)
    .option('--token-file <file>', 'read the token from the first line of this file')
    .option('--name <name>', 'the sender name of what the agent publishes', 'agent')
    .exitOverride(exitWithUsageCode)
    .addHelpText(
      'after',
      '\nAn MCP client starts this itself; in its config (e.g. claude_desktop_config.json):\n' +
        '  "mcpServers": { "resobridge": { "command": "npx", "args": ["resobridge", "mcp", "--url", "http://localhost:8778"],\n' +
        `                                  "env": { "${CLIENT_TOKEN_ENV}": "…" } } }\n` +
        'Tools: list_channels, channel_members, read_messages, wait_for_message, publish, get_key, set_key, delete_key, list_keys, list_connections.\n' +
        'See docs/agents.md.\n',
    )
    .action(runMcp);
}

async function runMcp(flags: McpFlags): Promise<void> {
  if (flags.token !== undefined && flags.tokenFile !== undefined) fail('Give the token once: --token or --token-file, not both.', ExitCode.usage);
  let token: string | undefined;
  try {
    if (flags.tokenFile !== undefined) token = readSecret({ file: flags.tokenFile }, '--token-file').reveal();
  } catch (error) {
    fail((error as Error).message, ExitCode.usage);
  }
  token ??= flags.token ?? (process.env[CLIENT_TOKEN_ENV] || undefined);
  if (flags.name.length === 0 || flags.name.length > 64) fail('--name must have 1 to 64 characters.', ExitCode.usage);
  const server = createMcpServer(new HttpApiClient(flags.url, token), { name: flags.name });
  const transport = new StdioServerTransport();
  // The client ends the session by closing stdin; then this process ends too.
  process.stdin.once('end', () => void server.close().finally(() => process.exit(ExitCode.ok)));
  await server.connect(transport);
  process.stderr.write(`resobridge mcp: serving MCP on stdio, using ${new URL(flags.url).origin}${token ? ' with a token' : ''}\n`);
}
