/** `resobridge token`: makes a new random token and the config lines that allow it (stored as a hash). */
import { createHash, randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { parseScope } from '../auth/scopes.js';
import { commandLine } from '../util/how-started.js';
import { exitWithUsageCode, ExitCode, fail } from './exit.js';
import { saveToken } from './token-file.js';

export function tokenCommand(): Command {
  return new Command('token')
    .description('make a new access token, and the lines to add to your config file')
    .option('--name <name>', 'a name for the token, shown in logs (e.g. the world or app)', 'my-world')
    .option('--allow <scopes>', 'what it may use, comma-separated: echo, api, api:r, channel:<pattern>, channel:<pattern>:r, connections, /<path>, *', 'echo,api,channel:*')
    .option('--save <file>', 'add it (its hash) to this YAML or JSON config file, creating the file if needed')
    .exitOverride(exitWithUsageCode)
    .action((options: { name: string; allow: string; save?: string }) => {
      const scopes = options.allow.split(',').map((scope) => scope.trim()).filter(Boolean);
      const bad = scopes.find((scope) => !parseScope(scope).ok);
      if (bad !== undefined || scopes.length === 0) {
        fail(`"${bad ?? ''}" is not a scope. Use echo, api, api:r, channel:<pattern>, channel:<pattern>:r, connections, /<path> or *.`, ExitCode.usage);
      }
      const token = randomBytes(24).toString('base64url');
      const hash = createHash('sha256').update(token).digest('hex');
      const intro = `Token for "${options.name}" (give this to whoever connects; it is shown only now):\n\n  ${token}\n\n` +
        `In Resonite, add it to the URL: ws://HOST:PORT/api?token=${token}\n\n`;
      if (options.save !== undefined) {
        try {
          const how = saveToken(options.save, { name: options.name, sha256: hash, allow: scopes });
          process.stdout.write(
            `${intro}${how === 'created' ? 'Created' : 'Added it to'} ${options.save} (only the hash is stored). ` +
              `Start the server with it: ${commandLine('serve', ['--config', options.save])}\n`,
          );
        } catch (error) {
          fail(`Cannot save the token in ${options.save}: ${(error as Error).message}`, ExitCode.failure);
        }
        return;
      }
      process.stdout.write(
        intro +
          `Add these lines under "tokens:" in your config file (only the hash is stored), or use --save resobridge.yaml:\n\n` +
          `  - name: ${options.name}\n    sha256: ${hash}\n    allow: [${scopes.map((scope) => JSON.stringify(scope)).join(', ')}]\n`,
      );
    });
}
