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
  const usePretty = !logsJson(config, stream);
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

/** Whether logs go out as JSON lines: asked for, or `auto` writing to something that is not a terminal (a file, a collector). */
export function logsJson(config: Pick<Config, 'logFormat'>, stream: { isTTY?: boolean } = process.stdout): boolean {
  return config.logFormat === 'json' || (config.logFormat === 'auto' && stream.isTTY !== true);
}
