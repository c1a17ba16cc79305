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
  // One wrapper per method name, made at first use (a bound copy per call cost every log line an allocation).
  // Each looks the method up when called: pino swaps level methods when the level changes.
  const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  const call = (property: PropertyKey, args: unknown[]) => (Reflect.get(log, property, log) as (...args: unknown[]) => unknown).apply(log, args);
  const wrap = (property: PropertyKey) =>
    typeof property === 'string' && LEVELS.has(property)
      ? (...args: unknown[]) => {
          const [fields, msg] = args;
          if (typeof msg === 'string' && isNotice(fields)) notice({ level: property as Notice['level'], msg, fields });
          return call(property, args);
        }
      : (...args: unknown[]) => call(property, args);
  return new Proxy(log, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let wrapper = wrappers.get(property);
      if (!wrapper) wrappers.set(property, (wrapper = wrap(property)));
      return wrapper;
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
