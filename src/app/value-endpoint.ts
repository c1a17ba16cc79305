/**
 * `/value/<key>?ns=…`: one key as a bare value, for worlds that only share a variable.
 * The client gets the value on connect and on every change (anyone's: command mode,
 * HTTP /kv, bridges, other nodes), with no tag and no escaping, paced and coalesced like
 * a watched key; each text message it sends sets the value. A world reads it with
 * Receiver → Parse → write, and writes it with one Sender.
 */
import { messages } from '../protocol/messages.js';
import { keyProblem } from '../protocol/names.js';
import { RequestError } from '../protocol/request-error.js';
import type { Endpoint, PathMatch } from '../server/endpoint.js';
import { anyText } from '../server/query-options.js';
import { SerialQueue } from './serial-queue.js';

const PREFIX = '/value/';
/** Writes one client may have waiting (as for commands). */
const MAX_WAITING = 256;

export function valueEndpoint() {
  const endpoint: Endpoint<{ missing: ReturnType<typeof anyText> }> = {
    kind: 'api',
    path: '/value/<key>',
    example: '/value/score?ns=my-world',
    summary: 'one key as a bare value: sent on connect and on every change; a message sets it',
    options: { missing: anyText() },
    match: matchValue,
    open(client, params, options) {
      const key = params.key ?? '';
      const writes = new SerialQueue(MAX_WAITING);
      client.watchBare(key, options.missing ?? '');
      return {
        message(text) {
          const queued = writes.push(async () => {
            try {
              await client.store.set(key, text);
            } catch (error) {
              // Only a refused write answers (a read-only token, a value over maxValueBytes): a world sees it in Data.
              client.send(messages.error('value', error instanceof RequestError ? error.message : 'the store failed to save the value; see the server log'));
            }
          });
          if (!queued) client.send(messages.error('value', `more than ${MAX_WAITING} writes are waiting; slow down`));
        },
        close() {},
      };
    },
  };
  return endpoint;
}

function matchValue(pathname: string): PathMatch {
  if (pathname === '/value' || pathname === PREFIX) {
    return { status: 400, reason: `The key is missing: connect to ${PREFIX}<key>, e.g. ${PREFIX}score?ns=my-world.` };
  }
  if (!pathname.startsWith(PREFIX)) return undefined;
  const raw = pathname.slice(PREFIX.length);
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    key = raw;
  }
  const problem = keyProblem(key);
  if (problem) return { status: 400, reason: `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.` };
  return { params: { key } };
}
