/**
 * Structured logs (pino): human-readable on a terminal, JSON lines for log
 * collectors. Pretty printing runs in-process (no worker thread) so the last
 * lines before exit are never lost.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config/fields.js';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, stream = process.stdout): Logger {
  const usePretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stream.isTTY === true);
  const options = { level: config.logLevel, base: undefined };
  if (!usePretty) return pino(options, stream);
  return pino(
    options,
    pretty({
      destination: stream,
      sync: true,
      colorize: stream.isTTY === true,
      translateTime: 'HH:MM:ss',
      ignore: 'pid,hostname',
      singleLine: true,
    }),
  );
}
