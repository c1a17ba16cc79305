#!/usr/bin/env node
/** The `resobridge` command. Each subcommand lives in its own file and only parses flags and calls the library. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { exitWithUsageCode } from './exit.js';
import { clientCommand } from './client.js';
import { doctorCommand } from './doctor.js';
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
  .addCommand(tokenCommand());

await program.parseAsync();
