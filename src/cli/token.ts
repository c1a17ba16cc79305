/** `resobridge token`: makes a new random token and the config lines that allow it (stored as a hash). */
import { createHash, randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { parseScope } from '../auth/scopes.js';
import { exitWithUsageCode, ExitCode, fail } from './exit.js';

export function tokenCommand(): Command {
  return new Command('token')
    .description('make a new access token, and the lines to add to your config file')
    .option('--name <name>', 'a name for the token, shown in logs (e.g. the world or app)', 'my-world')
    .option('--allow <scopes>', 'what it may use, comma-separated: echo, api, api:r, channel:<pattern>, channel:<pattern>:r, /<path>, *', 'echo,api,channel:*')
    .exitOverride(exitWithUsageCode)
    .action((options: { name: string; allow: string }) => {
      const scopes = options.allow.split(',').map((scope) => scope.trim()).filter(Boolean);
      const bad = scopes.find((scope) => !parseScope(scope).ok);
      if (bad !== undefined || scopes.length === 0) {
        fail(`"${bad ?? ''}" is not a scope. Use echo, api, api:r, channel:<pattern>, channel:<pattern>:r, /<path> or *.`, ExitCode.usage);
      }
      const token = randomBytes(24).toString('base64url');
      const hash = createHash('sha256').update(token).digest('hex');
      process.stdout.write(
        `Token for "${options.name}" (give this to whoever connects; it is shown only now):\n\n  ${token}\n\n` +
          `In Resonite, add it to the URL: ws://HOST:PORT/api?token=${token}\n\n` +
          'Add these lines under "tokens:" in your config file (only the hash is stored):\n\n' +
          `  - name: ${options.name}\n    sha256: ${hash}\n    allow: [${scopes.map((scope) => JSON.stringify(scope)).join(', ')}]\n`,
      );
    });
}
