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

/**
 * Most bytes that may wait for a program to read its stdin. A program that
 * stops reading would otherwise have every line for it held in the server's
 * memory; past this, lines for it are dropped.
 */
export const MAX_STDIN_BYTES = 1024 * 1024;

/** Writes a line to the program's stdin, unless too much waits unread already; false when it was dropped. */
export function writeLine(child: ChildProcessWithoutNullStreams, line: string): boolean {
  if (child.stdin.writableLength > MAX_STDIN_BYTES) return false;
  child.stdin.write(line);
  return true;
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
