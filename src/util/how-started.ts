/**
 * How this copy of resobridge runs, so that every piece of advice shows a
 * command that works as typed: in a clone (`npm start -- …`, `npm run doctor -- …`),
 * installed (`resobridge doctor …`), or as a project's dependency: a library inside
 * another program, or run with npx (`npx resobridge doctor …`, from that project's folder).
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StartedAs = 'checkout' | 'installed' | 'library';
export type Subcommand = 'serve' | 'doctor' | 'client' | 'token' | 'mcp';

/** The package's folder: one level up from both src/ and dist/ (this file is in <root>/<src|dist>/util). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The folder of the docs (shipped in the package too), as a user should open it. */
export function docsFolder(): string {
  return startedAs() === 'checkout' ? 'docs/' : join(PACKAGE_ROOT, 'docs/');
}

export function startedAs(): StartedAs {
  if (existsSync(join(PACKAGE_ROOT, '.git'))) return 'checkout';
  // Started with npx (npm sets npm_command=exec): a project's own dependency, so npx it is again.
  return runsOurCli() && process.env.npm_command !== 'exec' ? 'installed' : 'library';
}

/** True when the main script is this package's own `resobridge` command (not another program that imports it). */
function runsOurCli(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    const real = realpathSync(script);
    return [join('dist', 'cli', 'main.js'), join('src', 'cli', 'main.ts')].some((main) => real === join(PACKAGE_ROOT, main));
  } catch {
    return false;
  }
}

/** A command line for a subcommand, in the form that works where this copy runs. */
export function commandLine(subcommand: Subcommand, args: readonly string[] = [], as: StartedAs = startedAs()): string {
  const rest = args.map(shellQuote);
  const words =
    as === 'checkout'
      ? [...(subcommand === 'serve' ? ['npm', 'start'] : ['npm', 'run', subcommand]), ...(rest.length > 0 ? ['--', ...rest] : [])]
      : [...(as === 'library' ? ['npx'] : []), 'resobridge', subcommand, ...rest];
  return words.join(' ');
}

/** What arguments follow: `npm run doctor --`, `resobridge doctor` or `npx resobridge doctor` (the dashboard adds the URL). */
export function commandPrefix(subcommand: Subcommand, as: StartedAs = startedAs()): string {
  return as === 'checkout' ? `${commandLine(subcommand, [], as)} --` : commandLine(subcommand, [], as);
}

/** Quotes a word for a POSIX shell (and for cmd.exe when it has no special characters, the common case). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
