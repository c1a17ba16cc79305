/** Endpoints that users mount with `server.endpoint(path, handlers)`. */
import type { Endpoint } from '../server/endpoint.js';
import { anyText } from '../server/query-options.js';
import type { Client, ConnectionContext } from './client.js';

export interface EndpointHandlers {
  /** One line for the banner and the 404 page. */
  summary?: string;
  /** Query options it reads (from `connection.query`); any other option gets `error|query|…`. */
  options?: string[];
  onConnect?(context: ConnectionContext): void | Promise<void>;
  onMessage(text: string, context: ConnectionContext): void | Promise<void>;
  onDisconnect?(context: ConnectionContext): void | Promise<void>;
}

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;

/** Handler failures (thrown or rejected) go to `onError`; the server keeps running. */
export function customEndpoint(
  path: string,
  handlers: EndpointHandlers,
  onError: (error: unknown, what: string, client: Client) => void,
): Endpoint {
  if (!PATH.test(path) || path.length > 1 && path.endsWith('/')) {
    throw new Error(`Endpoint path "${path}" is not allowed: start with / and use letters, digits, . _ ~ - and / (no trailing /).`);
  }
  const call = (client: Client, what: string, action: () => void | Promise<void>) => {
    try {
      Promise.resolve(action()).catch((error: unknown) => onError(error, what, client));
    } catch (error) {
      onError(error, what, client);
    }
  };
  return {
    kind: 'custom',
    path,
    example: path,
    summary: handlers.summary ?? 'a custom endpoint',
    options: Object.fromEntries((handlers.options ?? []).map((name) => [name, anyText()])),
    match: (pathname) => (pathname === path ? { params: {} } : undefined),
    open(client) {
      if (handlers.onConnect) call(client, 'connect', () => handlers.onConnect?.(client));
      return {
        message: (text) => call(client, 'message', () => handlers.onMessage(text, client)),
        close: () => {
          if (handlers.onDisconnect) call(client, 'disconnect', () => handlers.onDisconnect?.(client));
        },
      };
    },
  };
}
