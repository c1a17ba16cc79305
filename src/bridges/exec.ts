/**
 * `type: exec`: one program per connection, websocketd-style. Each text
 * message is a line on the program's stdin; each line it writes is a message
 * to that client. The program sees who connected in its environment:
 *   RESOBRIDGE_PATH, RESOBRIDGE_QUERY (the query string), RESOBRIDGE_REMOTE_ADDR,
 *   RESOBRIDGE_NAME (display name), and each query option as RESOBRIDGE_Q_<NAME>
 *   (also CGI's QUERY_STRING, REMOTE_ADDR and PATH_INFO).
 * When the program exits, the client is told and closed after the linger;
 * when the client leaves, the program gets EOF, then SIGTERM after a grace period.
 */
import type { Logger } from 'pino';
import { messages } from '../protocol/messages.js';
import { CloseCode } from '../server/connection.js';
import type { Endpoint } from '../server/endpoint.js';
import { z } from 'zod';
import { command } from './bridge-spec.js';
import { readLines } from './lines.js';
import { endProgram, GRACE_MS, MAX_STDIN_BYTES, spawnProgram, writeLine } from './spawn-program.js';

export const EXEC_SPEC = z
  .object({
    type: z.literal('exec'),
    path: z.string().regex(/^\/[\w./~-]*$/, 'path must start with / (e.g. /weather)'),
    command,
    stderr: z.enum(['log', 'client']).default('log'),
  })
  .strict();
export type ExecSpec = z.infer<typeof EXEC_SPEC>;

export function execEndpoint(spec: ExecSpec, maxMessageBytes: number, log: Logger): Endpoint {
  return {
    kind: 'custom',
    path: spec.path,
    example: spec.path,
    summary: `runs "${spec.command}" for each connection`,
    options: {},
    // Every query option is passed on to the program; none is unknown.
    acceptsAnyOption: true,
    match: (pathname) => (pathname === spec.path ? { params: {} } : undefined),
    open({ connection }) {
      const options = Object.fromEntries([...connection.query].map(([key, value]) => [`RESOBRIDGE_Q_${key.toUpperCase().replace(/\W/g, '_')}`, value]));
      const child = spawnProgram(spec.command, {
        ...options,
        RESOBRIDGE_PATH: connection.path,
        RESOBRIDGE_QUERY: connection.query.toString(),
        RESOBRIDGE_REMOTE_ADDR: connection.remoteAddress,
        RESOBRIDGE_NAME: connection.name,
        QUERY_STRING: connection.query.toString(),
        REMOTE_ADDR: connection.remoteAddress,
        PATH_INFO: connection.path,
      });
      const about = { conn: connection.id, path: spec.path, pid: child.pid };
      log.info({ ...about, command: spec.command }, 'program started');
      readLines(child.stdout, maxMessageBytes, (line) => {
        if ('text' in line) connection.send(line.text, 'stream');
        else connection.sendMessage(messages.error('exec', line.problem));
      });
      readLines(child.stderr, maxMessageBytes, (line) => {
        const text = 'text' in line ? line.text : line.problem;
        log.info({ ...about, stderr: text }, 'program stderr');
        if (spec.stderr === 'client') connection.sendMessage(messages.stderr(text), 'stream');
      });
      child.once('error', (error) => log.error({ ...about, err: error }, 'program could not start'));
      child.once('exit', (code, signal) => {
        log.info({ ...about, code, signal }, 'program ended');
        const reason = code === 0 ? 'the program ended' : code === 127 ? 'the program was not found' : `the program failed (${signal ?? `exit code ${code}`})`;
        void connection.close(code === 0 ? CloseCode.normal : CloseCode.internalError, reason, messages.server(reason));
      });
      return {
        message: (text) => {
          if (!writeLine(child, `${text.replace(/\r?\n/g, ' ')}\n`)) {
            connection.sendMessage(messages.error('exec', `the program is not reading its input (over ${MAX_STDIN_BYTES} bytes wait for it); this message was dropped`));
          }
        },
        close: () => endProgram(child, GRACE_MS),
      };
    },
  };
}
