/**
 * Bridges as written in the config file (`bridges:`), or as JSON in --bridges:
 *
 *   bridges:
 *     - type: exec              # one program per connection, websocketd-style
 *       path: /weather
 *       command: python3 weather.py
 *       stderr: client          # also send stderr lines to the client as stderr|<line> (default: log only)
 *     - type: program           # one long-running program attached to a channel
 *       channel: bot
 *       command: node bot.js
 */
import { z } from 'zod';

const command = z.string().min(1, 'the command is empty');

export const EXEC_SPEC = z
  .object({
    type: z.literal('exec'),
    path: z.string().regex(/^\/[\w./~-]*$/, 'path must start with / (e.g. /weather)'),
    command,
    stderr: z.enum(['log', 'client']).default('log'),
  })
  .strict();

export const PROGRAM_SPEC = z
  .object({
    type: z.literal('program'),
    channel: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'channel must be 1 to 64 letters, digits, dots, dashes or underscores'),
    command,
    name: z.string().min(1).max(64).optional(),
  })
  .strict();

export const BRIDGES_SCHEMA = z.array(z.discriminatedUnion('type', [EXEC_SPEC, PROGRAM_SPEC]));
export type BridgeSpec = z.infer<typeof BRIDGES_SCHEMA>[number];
export type ExecSpec = z.infer<typeof EXEC_SPEC>;
export type ProgramSpec = z.infer<typeof PROGRAM_SPEC>;
