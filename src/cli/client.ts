/**
 * `resobridge client <url>`: talk to a server the way a Resonite world does.
 * Interactive (type a line, it is sent), or scripted with --send / --script,
 * with --expect to make it a check that exits 0 or 1.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { ClientUrlError, createResoniteClient, type ClientEvent, type ResoniteClient } from '../client/resonite-client.js';
import { commandLine } from '../util/how-started.js';
import { exitWithUsageCode, ExitCode, fail } from './exit.js';

interface ClientFlags {
  send: string[];
  script?: string;
  expect?: string;
  timeout: number;
  retry?: number;
  idleTimeout: number;
}

const seconds = (name: string) => (text: string) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a number of seconds above 0.`);
  return value;
};

export function clientCommand(): Command {
  return new Command('client')
    .description('connect to a WebSocket server the way a Resonite world does (text only, 60 s idle drop, retries)')
    .argument('<url>', 'e.g. ws://localhost:8778/echo')
    .option('--send <text>', 'send this message once connected (repeatable)', (text: string, all: string[]) => [...all, text], [])
    .option('--script <file>', "send each line of a file; a line 'wait <ms>' pauses")
    .option('--expect <regex>', 'exit 0 as soon as a received message matches, 1 if none does within --timeout')
    .option('--timeout <seconds>', 'how long --expect waits, or how long a script run listens for replies', seconds('--timeout'), 10)
    .option('--retry <seconds>', 'reconnect this long after a disconnect, like ConnectRetryInterval', seconds('--retry'))
    .option('--idle-timeout <seconds>', 'drop the connection after this long without traffic, like Resonite', seconds('--idle-timeout'), 60)
    .exitOverride(exitWithUsageCode)
    .addHelpText(
      'after',
      '\nExamples:\n  resobridge client ws://localhost:8778/echo\n  resobridge client ws://localhost:8778/api --send "set|score|42" --send "get|score" --expect "^value\\|score\\|42$"\n',
    )
    .action(runClient);
}

async function runClient(url: string, flags: ClientFlags): Promise<void> {
  let expect: RegExp | undefined;
  try {
    expect = flags.expect === undefined ? undefined : new RegExp(flags.expect);
  } catch (error) {
    fail(`--expect is not a valid regular expression: ${(error as Error).message}`, ExitCode.usage);
  }
  const script = [...flags.send.map((text) => ({ text })), ...(flags.script ? readScript(flags.script) : [])];
  const interactive = script.length === 0 && expect === undefined && process.stdin.isTTY === true;
  let matched = false;
  let client: ResoniteClient;
  try {
    client = createResoniteClient(url, {
      retrySeconds: flags.retry,
      idleTimeoutMs: flags.idleTimeout * 1000,
      onEvent: (event) => {
        print(event, flags.idleTimeout);
        if (event.type === 'message' && expect?.test(event.text)) matched = true;
      },
    });
  } catch (error) {
    if (error instanceof ClientUrlError) fail(error.message, ExitCode.usage);
    throw error;
  }
  const stop = async (code: number) => {
    await client.close();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(ExitCode.ok));

  try {
    await client.opened();
  } catch (error) {
    console.error(`Could not connect to ${url}: ${(error as Error).message.replace(/\.$/, '')}. To check it step by step, run: ${commandLine('doctor', [url])}`);
    return stop(ExitCode.failure);
  }

  if (interactive) {
    console.log('Type a message and press Enter to send it; Ctrl+C to quit.');
    return readLines(client, () => void stop(ExitCode.ok));
  }
  if (script.length === 0 && expect === undefined) {
    // Piped input: each line is a message.
    return readLines(client, () => void sleep(500).then(() => stop(ExitCode.ok)));
  }
  for (const step of script) {
    if ('waitMs' in step) await sleep(step.waitMs);
    else client.send(step.text);
  }
  const deadline = Date.now() + flags.timeout * 1000;
  while (expect && !matched && Date.now() < deadline) {
    await client.next(deadline - Date.now()).catch(() => undefined);
  }
  if (expect && !matched) {
    console.error(`No message matched ${expect} within ${flags.timeout} s.`);
    return stop(ExitCode.failure);
  }
  if (!expect) await sleep(500);
  return stop(client.binaryFrames > 0 ? ExitCode.failure : ExitCode.ok);
}

function readLines(client: ResoniteClient, onEnd: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    try {
      client.send(line);
    } catch (error) {
      console.error(`not sent: ${(error as Error).message}`);
    }
  });
  lines.once('close', onEnd);
}

function readScript(path: string): ({ text: string } | { waitMs: number })[] {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    fail(`Cannot read the script ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, ExitCode.usage);
  }
  return source
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .map((line) => {
      const wait = /^wait (\d+)$/.exec(line);
      return wait ? { waitMs: Number(wait[1]) } : { text: line };
    });
}

function print(event: ClientEvent, idleSeconds: number): void {
  const time = new Date().toISOString().slice(11, 23);
  switch (event.type) {
    case 'connecting':
      return console.log(`${time} connecting to ${event.url}`);
    case 'open':
      return console.log(`${time} connected`);
    case 'message':
      return console.log(`${time} < ${event.text}`);
    case 'sent':
      return console.log(`${time} > ${event.text}`);
    case 'ping':
      return; // keepalive traffic, as the world never sees it
    case 'binary':
      return console.log(`${time} ✗ the server sent a binary frame (${event.bytes} bytes): Resonite cannot receive binary`);
    case 'close':
      return console.log(
        `${time} disconnected: code ${event.code}${event.reason ? ` "${event.reason}"` : ''} (a world never sees the code or reason; it only gets OnDisconnected)`,
      );
    case 'idle':
      return console.log(`${time} no traffic from the server for ${idleSeconds} s: dropping the connection, as Resonite does`);
    case 'error':
      return console.log(`${time} error: ${event.message}`);
    case 'retry':
      return console.log(`${time} retrying in ${event.seconds} s (like ConnectRetryInterval)`);
  }
}
