/**
 * Advice for letting other machines in (`--host 0.0.0.0`), as commands that start
 * the server as typed: with tokens, or `--allow-anonymous` on a trusted network.
 * The refusal, the banner, `serve --help` and the README all say the same.
 */
import { CONFIG_FILE_ENV } from '../config/load.js';
import { commandLine } from '../util/how-started.js';

/** The config file `resobridge token --save` writes when the user has none yet. */
export const DEFAULT_CONFIG_FILE = 'resobridge.yaml';

/** The two ways to start on a network address, each a command ready to paste. */
export function networkCommands(serveArgs: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const given = configFileIn(serveArgs) ?? env[CONFIG_FILE_ENV];
  const file = given ?? DEFAULT_CONFIG_FILE;
  const withTokens = given === undefined ? [...serveArgs, '--config', file] : serveArgs;
  return {
    anonymous: commandLine('serve', serveArgs.includes('--allow-anonymous') ? serveArgs : [...serveArgs, '--allow-anonymous']),
    tokens: `${commandLine('token', ['--save', file])} && ${commandLine('serve', withTokens)}`,
  };
}

/** Why the server did not start, and both commands that do. */
export function refusalText(host: string, serveArgs: readonly string[]): string {
  const { anonymous, tokens } = networkCommands(serveArgs);
  return [
    `Not starting: on ${host} other machines can reach this server, and with no tokens anyone could use it. Choose one:`,
    '',
    '  On a trusted home network, where everyone who can reach this computer may use it:',
    `    ${anonymous}`,
    '',
    `  Only for people you give a token to (makes one and saves its hash in the config file):`,
    `    ${tokens}`,
    '',
    'More in docs/security.md.',
  ].join('\n');
}

/** One line for the banner and --help: how to let others in, both ways. */
export function networkHint(serveArgs: readonly string[] = []): string[] {
  const args = [...withoutHost(serveArgs), '--host', '0.0.0.0'];
  const { anonymous, tokens } = networkCommands(args);
  return [
    'To let others on your network in, choose: --allow-anonymous on a trusted home network, or tokens for anything wider:',
    `  ${anonymous}`,
    `  ${tokens}`,
  ];
}

function configFileIn(args: readonly string[]): string | undefined {
  for (const [i, arg] of args.entries()) {
    if (arg === '--config' || arg === '-c') return args[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

function withoutHost(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--host') i++;
    else if (!arg.startsWith('--host=')) kept.push(arg);
  }
  return kept;
}
