/**
 * A real OBS Studio for tests: Debian's `obs-studio` under `xvfb-run`, in a
 * throwaway HOME whose global.ini turns on obs-websocket (5.1 reads its
 * settings from [OBSWebSocket] there) on a free port with a password.
 * Stopped by its process group (xvfb-run, Xvfb and obs) after the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { closedPort } from './fixtures.js';
import { reachable } from './services.js';

const installed = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).error === undefined;

/** `false` when OBS can run here (or CI requires it); otherwise why the OBS tests are skipped. */
export const skipObs: string | false =
  process.env.CI === 'true' || (installed('obs', ['--version']) && installed('xvfb-run', ['--help']))
    ? false
    : 'OBS Studio or xvfb-run is not installed (apt-get install -y obs-studio xvfb xauth); with CI=true this is a failure';

/** OBS starts slowly on a busy machine: a generous bound, not a timing assertion. */
const START_WAIT_MS = 90_000;
const STOP_WAIT_MS = 15_000;
/** OBS's log is kept for the test to read (and show on failure), up to this much. */
const MAX_LOG_CHARS = 1_000_000;

export class RealObs {
  readonly password = randomBytes(12).toString('base64url');
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly home: string,
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Starts OBS on a free port; it is stopped and its HOME removed after the test. */
  static async start(t: TestContext): Promise<RealObs> {
    const home = mkdtempSync(join(tmpdir(), 'resobridge-obs-'));
    const obs = new RealObs(await closedPort(), home);
    t.after(async () => {
      await obs.stop();
      rmSync(home, { recursive: true, force: true });
    });
    mkdirSync(join(home, '.config', 'obs-studio'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'obs-studio', 'global.ini'),
      [
        '[General]',
        'FirstRun=true',
        '[OBSWebSocket]',
        'FirstLoad=false',
        'ServerEnabled=true',
        `ServerPort=${obs.port}`,
        'AlertsEnabled=false',
        'AuthRequired=true',
        `ServerPassword=${obs.password}`,
        '',
      ].join('\n'),
    );
    await obs.launch();
    return obs;
  }

  /** Starts OBS (again, with the same HOME and port) and waits until obs-websocket listens. */
  async launch(): Promise<void> {
    // TMPDIR inside HOME: xvfb-run's own temporary files go where the cleanup finds them.
    const child = spawn(
      'xvfb-run',
      ['-a', '-s', '-screen 0 1280x720x24', 'obs', '--minimize-to-tray', '--disable-shutdown-check', '--disable-updater', '--multi'],
      { env: { ...process.env, HOME: this.home, TMPDIR: this.home }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const keep = (chunk: Buffer) => {
      if (this.output.length < MAX_LOG_CHARS) this.output += String(chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + START_WAIT_MS;
    while (!(await reachable(this.port))) {
      if (exited) throw new Error(`OBS exited before listening on ${this.port}; its output:\n${this.output.slice(-4_000)}`);
      if (Date.now() > deadline) throw new Error(`OBS did not listen on ${this.port} within ${START_WAIT_MS / 1000} s; its output:\n${this.output.slice(-4_000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Stops OBS and its X server: SIGTERM to the process group, SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // Already gone.
      }
    };
    group('SIGTERM');
    const timer = setTimeout(() => group('SIGKILL'), STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
    // Xvfb and obs may outlive xvfb-run by a moment: make sure the group is gone.
    group('SIGKILL');
  }

  /** How many WebSocket clients OBS saw connect (from its log). */
  connections(): number {
    return this.output.split('New WebSocket client has connected').length - 1;
  }

  /** OBS's output so far (for failure messages). */
  log(): string {
    return this.output;
  }
}
