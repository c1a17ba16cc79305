/** `resobridge doctor <url>`: runs the troubleshooting checklist against a WebSocket URL. */
import { Command } from 'commander';
import { runDoctor } from '../doctor/run-doctor.js';
import { formatReport } from '../doctor/report.js';
import { exitWithUsageCode, ExitCode } from './exit.js';

export function doctorCommand(): Command {
  return new Command('doctor')
    .description("check a WebSocket URL the way Resonite would use it, and say what to fix")
    .argument('<url>', 'the URL you put in the WebsocketClient, e.g. ws://localhost:8778/echo')
    .option('--idle', 'also check that a quiet connection stays up past 60 s (takes 65 s)')
    .option('--json', 'print the result as JSON')
    .exitOverride(exitWithUsageCode)
    .addHelpText('after', '\nExit code: 0 all good (warnings allowed), 1 a check failed, 2 bad usage.\nExample: resobridge doctor ws://localhost:8778/echo\n')
    .action(async (url: string, options: { idle?: boolean; json?: boolean }) => {
      if (options.idle && !options.json) process.stdout.write('Checking (with --idle this takes about 65 s)…\n');
      const report = await runDoctor(url, { idle: options.idle });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.ok ? ExitCode.ok : ExitCode.failure;
    });
}
