/**
 * The built-in verbs of command mode, registered through the same API as
 * custom commands. docs/protocol.md has a table of them (a test keeps it true).
 */
import { clip } from '../protocol/clip.js';
import { messages } from '../protocol/messages.js';
import { RequestError } from '../protocol/request-error.js';
import { reservedReason, reservedTag } from '../protocol/reserved.js';
import { arg } from './args.js';
import type { Commands } from './commands.js';

export function registerBuiltins(commands: Commands, maxHistory: number): void {
  commands.register('ping', {
    help: 'answers pong; to test the connection',
    handler: () => messages.pong(),
  });
  commands.register('help', {
    help: 'lists the commands; help|<command> tells how to use one',
    args: { command: arg.text().optional() },
    handler: ({ command }) => {
      if (command === undefined) return messages.help(commands.verbs());
      const verb = command.trim().toLowerCase();
      if (!commands.has(verb)) return messages.error('help', `there is no command "${clip(command)}"; send help for the list`);
      return messages.helpVerb(verb, commands.usage(verb));
    },
  });
  commands.register('join', {
    help: `join a channel: its messages arrive as msg|<channel>|<from>|<text>; history replays up to ${maxHistory} past messages`,
    args: { channel: arg.text(), history: arg.int(0, maxHistory).default(0) },
    handler: ({ channel, history }, context) => {
      context.join(channel, history);
      return messages.ok('join', channel);
    },
  });
  commands.register('leave', {
    help: 'leave a channel',
    args: { channel: arg.text() },
    handler: ({ channel }, context) => {
      context.leave(channel);
      return messages.ok('leave', channel);
    },
  });
  commands.register('members', {
    help: 'who is in a channel (on every server node): members|<channel>|<total>|<shown>|<name>|…: everyone counted, at most 100 names shown, sorted',
    args: { channel: arg.text() },
    handler: async ({ channel }, context) => messages.members(channel, await context.members(channel)),
  });
  commands.register('pub', {
    help: 'publish text to a channel (joined or not); the text may contain |',
    args: { channel: arg.text(), text: arg.text().rest() },
    handler: ({ channel, text }, context) => {
      // Relay members get the text as it is: it must not pass for a server notice.
      const reserved = reservedTag(text);
      if (reserved) throw new RequestError(reservedReason(reserved));
      context.publish(channel, text);
      return messages.ok('pub', channel);
    },
  });
  commands.register('get', {
    help: 'read a key: answers value|<key>|<value>, or missing|<key>',
    args: { key: arg.text() },
    handler: async ({ key }, context) => {
      const value = await context.store.get(key);
      return value === undefined ? messages.missing(key) : messages.value(key, value);
    },
  });
  commands.register('set', {
    help: 'store a value under a key (kept across restarts); the value may contain |',
    args: { key: arg.text(), value: arg.text().rest() },
    handler: async ({ key, value }, context) => {
      await context.store.set(key, value);
      return messages.ok('set', key);
    },
  });
  commands.register('del', {
    help: 'delete a key',
    args: { key: arg.text() },
    handler: async ({ key }, context) => {
      await context.store.delete(key);
      return messages.ok('del', key);
    },
  });
  commands.register('keys', {
    help: 'list keys that start with a prefix (all keys without one): keys|<prefix>|<count>|<key>|…',
    args: { prefix: arg.text().default('') },
    handler: async ({ prefix }, context) => messages.keys(prefix, await context.store.keys(prefix)),
  });
  commands.register('incr', {
    help: 'add n (default 1, may be negative or decimal) to a number; answers value|<key>|<new value>',
    args: { key: arg.text(), n: arg.number().default(1) },
    handler: async ({ key, n }, context) => messages.value(key, await context.store.incr(key, n)),
  });
  commands.register('watch', {
    help: 'get value|<key>|<value> now and on every change (missing|<key> when deleted), from any client or app',
    args: { key: arg.text() },
    handler: async ({ key }, context) => {
      context.watch(key);
      const value = await context.store.get(key);
      return value === undefined ? messages.missing(key) : messages.value(key, value);
    },
  });
  commands.register('unwatch', {
    help: 'stop watching a key',
    args: { key: arg.text() },
    handler: ({ key }, context) => {
      context.unwatch(key);
      return messages.ok('unwatch', key);
    },
  });
}
