/**
 * Starts a bridge's program through the system shell (so `python3 bot.py --fast`
 * works as typed), on every platform. On Linux and macOS it gets a process
 * group of its own, so ending it also ends whatever the shell started.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const ownGroup = process.platform !== 'win32';

export function spawnProgram(command: string, env: Record<string, string>): ChildProcessWithoutNullStreams {
  const child = spawn(command, { shell: true, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, detached: ownGroup });
  // A program that exits before reading its input must not crash the server with EPIPE.
  child.stdin.on('error', () => {});
  return child;
}

/** How long a program has after EOF on stdin before it is sent SIGTERM. */
export const GRACE_MS = 2_000;

/** Ends a program politely: EOF on stdin, then SIGTERM after `graceMs`, then SIGKILL (to its whole process group). */
export function endProgram(child: ChildProcessWithoutNullStreams, graceMs: number): void {
  child.stdin.end();
  if (child.exitCode !== null || child.signalCode !== null) return signal(child, 'SIGKILL');
  const term = setTimeout(() => signal(child, 'SIGTERM'), graceMs);
  const kill = setTimeout(() => signal(child, 'SIGKILL'), graceMs * 2);
  child.once('exit', () => {
    clearTimeout(term);
    // The shell may be gone while what it started is not: make sure the group ends.
    setTimeout(() => {
      clearTimeout(kill);
      signal(child, 'SIGKILL');
    }, graceMs);
  });
}

function signal(child: ChildProcessWithoutNullStreams, name: NodeJS.Signals): void {
  try {
    if (ownGroup && child.pid) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // Already gone.
  }
}
