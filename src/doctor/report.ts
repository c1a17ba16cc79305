/** The doctor's findings, and how they are printed for people and as JSON. */

export type Status = 'pass' | 'fail' | 'warn' | 'skip';

export interface Check {
  /** Stable id for JSON users, e.g. `tcp`. */
  id: string;
  /** Short name shown in the report, e.g. `TCP connect`. */
  title: string;
  status: Status;
  /** What was found. */
  message: string;
  /** What to do about it (on fail/warn). */
  fix?: string;
  /** Worth knowing even when the check passed. */
  note?: string;
}

export interface DoctorReport {
  url: string;
  ok: boolean;
  checks: Check[];
  /** What no program can check, phrased for a world builder. */
  reminders: string[];
  durationMs: number;
}

export const REMINDERS = [
  "HandlingUser: set it to the person who runs the server. Only the HandlingUser's machine connects, and 'localhost' means that person's own computer.",
  'Denied by accident? In Resonite: Dash → Debug → Web Hosts tab → Remove Setting for this host, then click Allow at the next prompt. Each host and port is asked separately.',
  'AccessReason: fill it in on the WebsocketClient, so the permission prompt says why the world wants to connect.',
  'IsConnected on the WebsocketClient shows whether it is connected; the world never sees why a connection closed.',
];

const SYMBOL: Record<Status, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' };

export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.title.length)) + 2;
  const lines = [`resobridge doctor ${report.url}`, ''];
  for (const check of report.checks) {
    lines.push(`${SYMBOL[check.status]} ${check.title.padEnd(width)}${check.message}`);
    const indent = ' '.repeat(width + 2);
    if (check.note) lines.push(`${indent}! ${check.note}`);
    if (check.fix && (check.status === 'fail' || check.status === 'warn')) lines.push(`${indent}→ ${check.fix}`);
  }
  const failures = report.checks.filter((check) => check.status === 'fail').length;
  lines.push(
    '',
    failures === 0
      ? `All checks passed (${report.durationMs} ms). The server is fine; if a world still can't connect, check these in Resonite:`
      : `${failures} check${failures === 1 ? '' : 's'} failed (${report.durationMs} ms). Fix ${failures === 1 ? 'it' : 'them'} first, then check these in Resonite:`,
  );
  for (const reminder of report.reminders) lines.push(`  • ${reminder}`);
  return `${lines.join('\n')}\n`;
}
