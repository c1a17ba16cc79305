/**
 * Every kind of message the server sends, built in one place so the docs'
 * table (docs/protocol.md) can be checked against it. The most used payload
 * is always the last field, so a world can take "everything after the last
 * separator it cares about".
 */
import { clip } from './clip.js';
import { Message } from './message.js';
import type { Value } from './values.js';

/** Most names one `members` answer lists. */
export const MAX_LISTED = 100;

export const messages = {
  /** Answer to `ping`. */
  pong: () => new Message('pong'),
  /** A command that has nothing else to say succeeded: `ok|set|score`. */
  ok: (verb: string, subject: string) => new Message('ok', [['verb', verb], ['subject', subject]]),
  /** A key's value (answer to get/incr/watch, and pushed to watchers on every change). */
  value: (key: string, value: Value) => new Message('value', [['key', key], ['value', value]]),
  /** The key has no value (answer to get/watch, and pushed to watchers when it is deleted). */
  missing: (key: string) => new Message('missing', [['key', key]]),
  /** Keys with a prefix: `keys|<prefix>|<count>|k1|k2…`. */
  keys: (prefix: string, keys: readonly string[]) =>
    new Message('keys', [['prefix', prefix], ['count', keys.length], ['keys', keys]]),
  /**
   * Who is in a channel, on every node: `members|<channel>|<total>|<shown>|<name>…`. `total` is
   * everyone; `shown` is how many names follow (sorted, at most `MAX_LISTED`), the bound of a world's loop.
   */
  members: (channel: string, names: readonly string[]) => {
    const shown = names.slice(0, MAX_LISTED);
    return new Message('members', [['channel', channel], ['count', names.length], ['shown', shown.length], ['names', shown]]);
  },
  /** A message in a channel joined in command mode: `msg|<channel>|<from>|<text>`. */
  msg: (channel: string, from: string, text: string) =>
    new Message('msg', [['channel', channel], ['from', from], ['text', text]]),
  /** Presence: someone joined a channel. */
  joined: (channel: string, name: string) => new Message('joined', [['channel', channel], ['name', name]]),
  /** Presence: someone left a channel. */
  left: (channel: string, name: string) => new Message('left', [['channel', channel], ['name', name]]),
  /** `help`: the verbs, space-separated; `help|<verb>`: how to use it. */
  help: (verbs: readonly string[]) => new Message('help', [['verbs', verbs.join(' ')]]),
  helpVerb: (verb: string, usage: string) => new Message('help', [['verb', verb], ['usage', usage]]),
  /** Something was wrong: `error|<verb or topic>|<what, and what to send instead>` (a topic from the client, e.g. an unknown verb, is clipped). */
  error: (topic: string, text: string) => new Message('error', [['topic', clip(topic)], ['text', text]]),
  /** Messages to this client were dropped because it could not keep up (pacing): `dropped|<count>`. */
  dropped: (count: number) => new Message('dropped', [['count', count]]),
  /** A line a bridged program wrote to stderr (when its bridge sends them to the client). */
  stderr: (line: string) => new Message('stderr', [['line', line]]),
  /** News from the server itself, e.g. `server|shutting down`. */
  server: (text: string) => new Message('server', [['text', text]]),
} as const;

/** Tags of everything the server can send (custom commands may add their own). */
export const SERVER_TAGS = ['pong', 'ok', 'value', 'missing', 'keys', 'members', 'msg', 'joined', 'left', 'help', 'error', 'dropped', 'stderr', 'server'] as const;

export type { Value };
