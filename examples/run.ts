/**
 * Runs an example from the command line, like `npm start` would: settings from RESOBRIDGE_*
 * variables (e.g. RESOBRIDGE_PORT=8779), `--port` and `--config FILE`, so one runs next to a server on 8778;
 * a taken port or a bad setting is a message, not a stack trace. Ctrl+C stops it.
 *
 *   RESOBRIDGE_PORT=8779 npx tsx examples/dice.ts      or      npx tsx examples/dice.ts --port 8779
 */
import { parseArgs } from 'node:util';
import { ConfigError, ListenError, loadConfig, StoreError, type ResobridgeServer, type ServerOptions } from '../src/index.js';

export async function runExample(make: (options: ServerOptions) => ResobridgeServer, describe: (base: string) => string): Promise<void> {
  let server: ResobridgeServer;
  try {
    const { values } = parseArgs({ options: { port: { type: 'string' }, config: { type: 'string' } } });
    server = make(loadConfig({ env: process.env, flags: { port: values.port }, file: values.config ?? process.env.RESOBRIDGE_CONFIG }));
    const { port } = await server.listen();
    console.log(describe(`ws://localhost:${port}`));
  } catch (error) {
    const usage = error instanceof ConfigError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (usage || error instanceof ListenError || error instanceof StoreError) {
      console.error(`${(error as Error).message}${usage ? ' This example takes --port <port>, --config <file> and RESOBRIDGE_* variables.' : ''}`);
      process.exit(usage ? 2 : 1);
    }
    throw error;
  }
  process.once('SIGINT', () => void server.close());
}
