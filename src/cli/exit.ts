/** Exit codes of every resobridge command. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

/** Prints a message meant for a person (no stack trace) and exits. */
export function fail(message: string, code: number): never {
  process.stderr.write(`resobridge: ${message}\n`);
  process.exit(code);
}

/** For commander: help and --version exit 0, any mistake in the command line exits 2. */
export function exitWithUsageCode(error: { exitCode: number }): never {
  process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
}
