/**
 * .NET's ClientWebSocket, the class Resonite's WebsocketClient uses, driven from
 * tests: test/dotnet/WsDriver.cs (and the other programs there) is compiled once with Mono's `mcs` (cached in
 * the temp directory by a hash of its source) and run with `mono`. `.ci/run`
 * installs them (apt-get install -y mono-mcs mono-runtime libmono-system-net-http4.0-cil);
 * elsewhere, tests skip when they are missing.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { WAIT_MS } from './helpers.js';

const installed = (program: string) => spawnSync(program, ['--version'], { stdio: 'ignore' }).error === undefined;

/** `false` when mono and mcs are there (or CI requires them); otherwise the reason to skip. */
export function skipUnlessMono(): string | false {
  if (process.env.CI === 'true' || (installed('mono') && installed('mcs'))) return false;
  return 'Mono is not installed (apt-get install -y mono-mcs mono-runtime libmono-system-net-http4.0-cil; CI=true makes this a failure)';
}

const compiled = new Map<string, string>();

/** A program of test/dotnet/, compiled once per source version; several test processes may race to build it. */
export function compiledProgram(name: string): string {
  const done = compiled.get(name);
  if (done) return done;
  const sourcePath = fileURLToPath(new URL(`./dotnet/${name}.cs`, import.meta.url));
  const source = readFileSync(sourcePath);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const exe = join(tmpdir(), `resobridge-${name.toLowerCase()}-${hash}.exe`);
  if (!existsSync(exe)) {
    const dir = mkdtempSync(join(tmpdir(), `resobridge-${name.toLowerCase()}-`));
    const built = join(dir, `${name}.exe`);
    const result = spawnSync('mcs', ['-nologo', `-out:${built}`, sourcePath], { encoding: 'utf8' });
    if (result.error || result.status !== 0) {
      throw new Error(`mcs could not compile ${sourcePath}: ${result.error?.message ?? `${result.stdout}${result.stderr}`}`);
    }
    renameSync(built, exe);
    rmSync(dir, { recursive: true, force: true });
  }
  compiled.set(name, exe);
  return exe;
}

const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const unescape = (text: string) => text.replace(/\\(.)/g, (_all, next: string) => (next === 'n' ? '\n' : next === 'r' ? '\r' : next));

/** What `recv` gives: a text message, the server's close frame, an error, or nothing in time. */
export type DotnetEvent =
  | { type: 'text'; text: string }
  | { type: 'binary'; text: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; message: string }
  | { type: 'timeout' };

/** A program of test/dotnet/ in a mono process that answers each command line with one line. */
export class MonoProgram {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private exited = false;

  protected constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    child.stderr.resume();
    child.once('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  /** Starts test/dotnet/<name>.cs; it is killed when the test ends. */
  protected static spawn(t: TestContext, name: string): ChildProcessWithoutNullStreams {
    const child = spawn('mono', [compiledProgram(name)]);
    t.after(() => child.kill('SIGKILL'));
    return child;
  }

  /** Sends one command line and returns the program's one-line answer. */
  async command(line: string, waitMs = WAIT_MS): Promise<string> {
    this.child.stdin.write(`${line}\n`);
    if (this.lines.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the .NET program did not answer "${line}" within ${waitMs} ms`)), waitMs);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
        if (this.exited) this.waiter();
      });
    }
    const answer = this.lines.shift();
    if (answer === undefined) throw new Error(`the .NET program ended while answering "${line}"`);
    return answer;
  }
}

/** One ClientWebSocket in a mono process, one command at a time (see WsDriver.cs). */
export class DotnetClient extends MonoProgram {
  static start(t: TestContext): DotnetClient {
    return new DotnetClient(MonoProgram.spawn(t, 'WsDriver'));
  }

  /** Starts a driver and connects it; fails the test if the connection is not open. */
  static async connect(t: TestContext, url: string): Promise<DotnetClient> {
    const client = DotnetClient.start(t);
    const answer = await client.command(`connect ${url}`);
    if (answer !== 'open') throw new Error(`the .NET client could not connect to ${url}: ${answer}`);
    return client;
  }

  /** The connect answer: `open`, or `error <message>`. */
  async tryConnect(url: string): Promise<string> {
    return unescape(await this.command(`connect ${url}`));
  }

  async send(text: string): Promise<void> {
    const answer = await this.command(`send ${escape(text)}`);
    if (answer !== 'sent') throw new Error(`the .NET client could not send: ${answer}`);
  }

  /** The next thing the client received, in order. */
  async receive(waitMs = WAIT_MS): Promise<DotnetEvent> {
    const answer = await this.command(`recv ${waitMs}`, waitMs + WAIT_MS);
    const space = answer.indexOf(' ');
    const kind = space < 0 ? answer : answer.slice(0, space);
    const rest = space < 0 ? '' : answer.slice(space + 1);
    switch (kind) {
      case 'text':
      case 'binary':
        return { type: kind, text: unescape(rest) };
      case 'close': {
        const [code = '', ...reason] = rest.split(' ');
        return { type: 'close', code: Number(code), reason: unescape(reason.join(' ')) };
      }
      case 'timeout':
        return { type: 'timeout' };
      default:
        return { type: 'error', message: unescape(rest) };
    }
  }

  /** The next text message; fails on anything else. */
  async next(waitMs = WAIT_MS): Promise<string> {
    const event = await this.receive(waitMs);
    if (event.type !== 'text') throw new Error(`expected a text message, the .NET client got ${JSON.stringify(event)}`);
    return event.text;
  }

  /** Starts the close handshake from the client (CloseOutputAsync); the server's answer comes through receive(). */
  async close(code: number, reason = ''): Promise<void> {
    const answer = await this.command(`close ${code} ${reason}`);
    if (answer !== `closed ${code}`) throw new Error(`the .NET client could not close: ${answer}`);
  }

  /** ClientWebSocket.State: Open, CloseReceived, Closed, Aborted, … */
  async state(): Promise<string> {
    return (await this.command('state')).replace(/^state /, '');
  }
}
