#!/usr/bin/env node
/** The `resobridge` command. Each subcommand lives in its own file and only parses flags and calls the library. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import type { Subcommand } from '../util/how-started.js';
import { exitWithUsageCode, usageErrorOutput } from './exit.js';
import { clientCommand } from './client.js';
import { doctorCommand } from './doctor.js';
import { mcpCommand } from './mcp.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';

const program = new Command('resobridge')
  .description('The WebSocket server that Resonite worlds connect to.')
  .version(VERSION)
  .showSuggestionAfterError()
  .exitOverride(exitWithUsageCode)
  .addCommand(serveCommand(), { isDefault: true })
  .addCommand(doctorCommand())
  .addCommand(clientCommand())
  .addCommand(tokenCommand())
  .addCommand(mcpCommand())
  .configureOutput(usageErrorOutput('serve'));
// Subcommands added with addCommand do not inherit output settings: each gets its own, naming its --help.
for (const command of program.commands) {
  command.showSuggestionAfterError().configureOutput(usageErrorOutput(command.name() as Subcommand));
}

await program.parseAsync();
