/**
 * What the server logs with a `reason` (a refused handshake or request, an
 * error|query, a close the server made) is also a notice for the dashboard's
 * log tab: a world builder who watches the page sees why, as in the log.
 * The logger is wrapped, so every such line is a notice without each call
 * site having to remember it.
 */
import type { Logger } from 'pino';

export interface Notice {
  level: 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  fields: Record<string, unknown>;
}

const LEVELS = new Set(['info', 'warn', 'error', 'fatal']);

/** The same logger; lines it is given with a `reason` (not a client's own close) also go to `notice`, whatever the log level. */
export function withNotices(log: Logger, notice: (entry: Notice) => void): Logger {
  return new Proxy(log, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (typeof property !== 'string' || !LEVELS.has(property)) return value.bind(target);
      const write = value as (this: Logger, ...args: unknown[]) => void;
      return (...args: unknown[]) => {
        const [fields, msg] = args;
        if (typeof msg === 'string' && isNotice(fields)) notice({ level: property as Notice['level'], msg, fields });
        write.apply(target, args);
      };
    },
  });
}

function isNotice(fields: unknown): fields is Record<string, unknown> {
  if (typeof fields !== 'object' || fields === null) return false;
  const record = fields as Record<string, unknown>;
  return typeof record.reason === 'string' && record.closedBy !== 'client';
}

/** One line for a notice: what happened, to what, and why. */
export function noticeText({ msg, fields }: Notice): string {
  const about = [fields.path, fields.status].filter((part) => part !== undefined).join(' ');
  return `${msg}${about ? ` (${about})` : ''}: ${String(fields.reason)}`;
}
