/** Shared test helpers: a server on a random port, and a client that queues what it receives. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { createServer, type ServerOptions } from '../src/index.js';

/** Longest any single wait in a test may take; a safety net, not a timing assertion. */
export const WAIT_MS = 10_000;

export async function startServer(t: TestContext, options: ServerOptions = {}) {
  const server = createServer({ port: 0, logLevel: 'silent', closeLingerMs: 20, store: 'memory', ...options });
  const { port } = await server.listen();
  t.after(() => server.close());
  return {
    server,
    port,
    ws: (path: string) => `ws://127.0.0.1:${port}${path}`,
    http: (path: string) => `http://127.0.0.1:${port}${path}`,
  };
}

/** A WebSocket client that queues received text and fails loudly on a binary frame. */
export class TestClient {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  private binaryReceived = false;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.binaryReceived = true;
      this.queue.push(String(data));
      this.waiter?.();
    });
    socket.on('ping', () => this.pings++);
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.waiter?.();
      });
    });
  }

  static async connect(t: TestContext, url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options);
    const client = new TestClient(socket);
    t.after(() => socket.terminate());
    await once(socket, 'open');
    return client;
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** The next message received, in order. */
  async next(): Promise<string> {
    if (this.queue.length === 0 && this.socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message within ${WAIT_MS} ms`)), WAIT_MS);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
    if (this.binaryReceived) throw new Error('the server sent a binary frame');
    const message = this.queue.shift();
    if (message === undefined) throw new Error('the connection closed while waiting for a message');
    return message;
  }

  /** Sends and returns the next message (the reply, when nothing else is on its way). */
  async ask(text: string): Promise<string> {
    this.send(text);
    return this.next();
  }

  /** Messages received so far and not yet taken. */
  get pending(): readonly string[] {
    return this.queue;
  }
}

/** Opens a WebSocket that the server refuses; returns the HTTP status and body it answered with. */
export async function refusedHandshake(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const socket = new WebSocket(url, { headers });
  socket.on('error', () => {});
  const [, response] = (await once(socket, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return { status: response.statusCode ?? 0, body };
}

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** Environment for a CLI child: this one's, minus any RESOBRIDGE_* settings, plus `env`. */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESOBRIDGE_')));
  return { ...clean, RESOBRIDGE_STORE: 'memory', ...env };
}

/** How to start the CLI (for a launcher that spawns it itself, like an MCP client's stdio transport). */
export function cliCommand(args: string[], env: Record<string, string> = {}, wrapper: string[] = []) {
  const [command = process.execPath, ...prefix] = [...wrapper, process.execPath];
  return { command, args: [...prefix, '--import', 'tsx', CLI, ...args], env: cliEnv(env) };
}

/** `wrapper`: a command to run it under, e.g. `['prlimit', '--nofile=256:256', '--']`. */
export function spawnCli(args: string[], env: Record<string, string> = {}, wrapper: string[] = []): ChildProcessWithoutNullStreams {
  const { command, args: all, env: childEnv } = cliCommand(args, env, wrapper);
  return spawn(command, all, { env: childEnv });
}

/** Runs the CLI to its end. */
export async function runCli(args: string[], env: Record<string, string> = {}) {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Reads a child's stdout until `pattern` appears (leaving the stream open); returns all output so far and the match. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp) {
  return new Promise<{ output: string; match: RegExpMatchArray }>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const match = output.match(pattern);
      if (!match) return;
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.stdout.resume();
      resolve({ output, match });
    };
    const onExit = () => reject(new Error(`process ended without printing ${pattern}; it printed:\n${output}`));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** A logger whose lines a test can read: pass `logger` to startServer or createServer. */
export function capturedLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines,
    /** Everything logged so far, as one text (to look for what must never appear). */
    text: () => lines.map((line) => JSON.stringify(line)).join('\n'),
    /** The lines with this message. */
    find: (msg: string) => lines.filter((line) => line.msg === msg),
  };
}
