/**
 * A dice roller: `roll` or `roll|20` answers `rolled|<sides>|<result>`, and
 * everyone in the channel "table" sees `msg|table|<name>|rolled <result> on a d<sides>`.
 *
 *   npx tsx examples/dice.ts        then, from a world: ws://localhost:8778/api?name=Alice
 *
 * Another port: RESOBRIDGE_PORT=8779 npx tsx examples/dice.ts (or --port 8779), e.g. next to npm start.
 * In your own project, import from 'resobridge' instead of '../src/index.js'.
 */
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { arg, createServer, type ServerOptions } from '../src/index.js';
import { runExample } from './run.js';

export function diceServer(options: ServerOptions = {}) {
  return createServer(options).command('roll', {
    help: 'roll a die with 2 to 1000 sides (default 6); answers rolled|<sides>|<result>',
    args: { sides: arg.int(2, 1000).default(6) },
    handler: ({ sides }, context) => {
      const result = randomInt(1, sides + 1);
      context.publish('table', `rolled ${result} on a d${sides}`);
      return ['rolled', sides, result];
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample(diceServer, (base) => `Dice server: connect to ${base}/api and send roll|20`);
}
