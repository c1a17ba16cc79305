/** `resobridge serve`: load the config, start the server, print the banner, shut down gracefully on Ctrl+C. */
import { Command, Option } from 'commander';
import { ConfigError, OpenToNetworkError } from '../config/errors.js';
import { configKeys, fields, type ConfigKey } from '../config/fields.js';
import { CONFIG_FILE_ENV, envName, flagName, loadConfig } from '../config/load.js';
import { createLogger, logsJson, type Logger } from '../log/logger.js';
import { createServer, type ResobridgeServer } from '../server/create-server.js';
import { ListenError } from '../server/listen-error.js';
import { BrokerError } from '../hub/broker.js';
import { StoreError } from '../store/open-store.js';
import { bannerText, bannerUrls } from './banner.js';
import { docsFolder } from '../util/how-started.js';
import { networkHint, refusalText } from './network-advice.js';
import { exitWithUsageCode, fail, ExitCode } from './exit.js';

export function serveCommand(): Command {
  const command = new Command('serve')
    .description(
      'start the WebSocket server that Resonite worlds connect to: /echo, /channel/<name>, /api (command mode: keys and channels), ' +
        'and the dashboard at http://HOST:PORT/',
    )
    .exitOverride(exitWithUsageCode)
    .option('-c, --config <file>', `read settings from a YAML or JSON file (or set ${CONFIG_FILE_ENV})`);
  for (const key of configKeys) {
    const field = fields[key];
    command.addOption(
      new Option(`${flagName(key)} ${field.placeholder}`, `${field.help} (${defaultText(field.default)}env ${envName(key)})`),
    );
    // A yes/no setting that is on by default can be turned off with --no-<flag>.
    if (field.default === true) command.addOption(new Option(flagName(key).replace(/^--/, '--no-'), `turn ${flagName(key)} off`));
  }
  command.addHelpText(
    'after',
    () =>
      '\nPrecedence: flags > RESOBRIDGE_* environment variables > config file > defaults.\n\n' +
      `${networkHint(['--port', '9000']).join('\n')}\n\n` +
      `The docs named above (docs/security.md, …) are in ${docsFolder()}\n`,
  );
  return command.action(serve);
}

/** "default: 8778; " — or nothing for a setting that is empty unless given (tokens, tlsCert, …). */
function defaultText(value: unknown): string {
  const empty = value === '' || (Array.isArray(value) && value.length === 0);
  return empty ? '' : `default: ${String(value)}; `;
}

async function serve(options: Record<string, string | boolean | undefined>): Promise<void> {
  const { config: file, ...given } = options;
  // A yes/no flag given without a value (--allow-anonymous) means yes; --no-<flag> means no.
  const flags = Object.fromEntries(Object.entries(given).map(([key, value]) => [key, value === true ? 'yes' : value === false ? 'no' : value]));
  let server: ResobridgeServer;
  let log: Logger;
  try {
    const config = loadConfig({
      flags: flags as Partial<Record<ConfigKey, string>>,
      env: process.env,
      file: (typeof file === 'string' ? file : undefined) ?? process.env[CONFIG_FILE_ENV],
    });
    log = createLogger(config);
    server = createServer({ ...config, logger: log });
  } catch (error) {
    if (error instanceof OpenToNetworkError) fail(refusalText(error.host, serveArgs()), ExitCode.usage);
    if (error instanceof ConfigError) fail(error.message, ExitCode.usage);
    throw error;
  }
  let address;
  try {
    address = await server.listen();
  } catch (error) {
    if (error instanceof ListenError || error instanceof StoreError || error instanceof BrokerError) fail(error.message, ExitCode.failure);
    throw error;
  }
  // Handlers first: a signal that comes as soon as the URLs are out (a supervisor, a test) must find them.
  stopOnSignals(server, log);
  // JSON logs stay pure JSON lines: the banner is then one record, written at any level but silent,
  // as the plain banner is (it holds the URLs to paste into Resonite).
  const announce = server.config.logLevel === 'silent' ? log : log.child({}, { level: 'info' });
  if (logsJson(server.config)) announce.info({ urls: bannerUrls(server, address) }, 'listening');
  else process.stdout.write(bannerText(server, address, serveArgs()));
}

function stopOnSignals(server: ResobridgeServer, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: stopping at once`);
      process.exit(ExitCode.failure);
    }
    stopping = true;
    log.info(signal === 'SIGINT' ? 'SIGINT: shutting down (press Ctrl+C again to force)' : `${signal}: shutting down`);
    // The close is bounded by shutdownTimeoutMs; this is a last resort if something still hangs.
    setTimeout(() => process.exit(ExitCode.failure), server.config.shutdownTimeoutMs + 5_000).unref();
    server.close().then(
      () => process.exit(ExitCode.ok),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(ExitCode.failure);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // SIGHUP (Linux, macOS): re-read a renewed TLS certificate; connections stay up.
  if (server.secure && process.platform !== 'win32') {
    process.on('SIGHUP', () => {
      try {
        server.reloadTls();
      } catch (error) {
        log.error({ err: error }, 'TLS reload failed; keeping the old certificate');
      }
    });
  }
}

/** The arguments the user gave to `serve` (without the word itself), to repeat them in advice. */
function serveArgs(): string[] {
  const args = process.argv.slice(2);
  return args[0] === 'serve' ? args.slice(1) : args;
}
