/**
 * A dice roller: `roll` or `roll|20` answers `rolled|<sides>|<result>`, and
 * everyone in the channel "table" sees `msg|table|<name>|rolled <result> on a d<sides>`.
 *
 *   npx tsx examples/dice.ts        then, from a world: ws://localhost:8778/api?name=Alice
 *
 * In your own project, import from 'resobridge' instead of '../src/index.js'.
 */
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { arg, createServer, type ServerOptions } from '../src/index.js';

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
  const server = diceServer();
  await server.listen();
  console.log('Dice server: connect to ws://localhost:8778/api and send roll|20');
  process.once('SIGINT', () => void server.close());
}
