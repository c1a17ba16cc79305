/**
 * A world-state counter kept across restarts (in the SQLite store):
 * `click` adds one, `reset` sets it to 0; every world that sent
 * `watch|clicks` sees `value|clicks|<n>` on each change.
 *
 *   npx tsx examples/counter.ts     then: ws://localhost:8778/api?ns=my-world
 *
 * Another port: RESOBRIDGE_PORT=8779 npx tsx examples/counter.ts (or --port 8779), e.g. next to npm start.
 * In your own project, import from 'resobridge' instead of '../src/index.js'.
 */
import { fileURLToPath } from 'node:url';
import { createServer, type ServerOptions } from '../src/index.js';
import { runExample } from './run.js';

export function counterServer(options: ServerOptions = {}) {
  return createServer(options)
    .command('click', {
      help: 'add one to the counter; answers count|<n>',
      handler: async (_args, context) => ['count', await context.store.incr('clicks')],
    })
    .command('reset', {
      help: 'set the counter back to 0',
      handler: async (_args, context) => {
        await context.store.set('clicks', 0);
        return ['count', 0];
      },
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample(counterServer, (base) => `Counter server: connect to ${base}/api?ns=my-world, send watch|clicks then click`);
}
