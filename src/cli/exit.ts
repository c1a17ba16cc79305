import { commandLine, docsFolder, type Subcommand } from '../util/how-started.js';

/** Exit codes of every resobridge command. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

/** Prints a message meant for a person (no stack trace) and exits. A "docs/x.md" in it points where the docs are (the package's folder when installed). */
export function fail(message: string, code: number): never {
  process.stderr.write(`resobridge: ${message.replace(/(?<![\w/.])docs\/(?=[\w-]+\.md)/g, docsFolder())}\n`);
  process.exit(code);
}

/** For commander: help and --version exit 0, any mistake in the command line exits 2. */
export function exitWithUsageCode(error: { exitCode: number }): never {
  process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
}

/**
 * Commander's own mistakes ("error: unknown option '--prot'" and its "(Did you mean --port?)")
 * in the project's style: one sentence, the likely fix, and where the full list is.
 */
export function usageErrorOutput(subcommand: Subcommand) {
  return {
    outputError(text: string, write: (text: string) => void): void {
      write(`resobridge: ${restyle(text)} See: ${commandLine(subcommand, ['--help'])}\n`);
    },
  };
}

function restyle(text: string): string {
  const [first = '', ...more] = text.replace(/^error: /, '').trim().split('\n');
  const unknown = /^unknown option '([^']+)'$/.exec(first);
  const sentence = unknown ? `Unknown option ${unknown[1]}.` : `${first.charAt(0).toUpperCase()}${first.slice(1)}${/[.!?]$/.test(first) ? '' : '.'}`;
  const hint = more.join(' ').trim().replace(/^\((.*)\)$/, '$1');
  return hint ? `${sentence} ${hint}` : sentence;
}
