import { mayChannel } from '../../auth/access.js';
import { clip } from '../../protocol/clip.js';
import type { Hub } from '../../hub/hub.js';
import { messages } from '../../protocol/messages.js';
import { NAME, NAME_RULE } from '../../protocol/names.js';
import { reservedReason, reservedTag } from '../../protocol/reserved.js';
import type { Endpoint, PathMatch } from '../endpoint.js';
import { count, flag } from '../query-options.js';

const PREFIX = '/channel/';
/** Channel names: letters, digits, `.`, `_` and `-`; 1 to 64 of them; case matters. */
export const CHANNEL_NAME = NAME;
export const CHANNEL_NAME_RULE = `${NAME_RULE} (e.g. lobby, my-world.chat)`;

/** `/channel/<name>`: relays every text message, unchanged, to the channel's other members. */
export function channelEndpoint(hub: Hub, maxHistory: number) {
  const endpoint: Endpoint<{ echo: ReturnType<typeof flag>; presence: ReturnType<typeof flag>; history: ReturnType<typeof count> }> = {
    kind: 'channel',
    path: '/channel/<name>',
    example: '/channel/lobby?presence=1',
    summary: 'relays every message to everyone else in the channel <name>',
    options: { echo: flag(), presence: flag(), history: count(maxHistory) },
    match: matchChannel,
    open({ connection }, params, options) {
      const channel = params.channel ?? '';
      const membership = hub.join(channel, connection, { ...options, relay: true });
      const readOnly = !mayChannel(connection.grant, channel, 'write');
      return {
        message: (text) => {
          if (readOnly) {
            connection.sendMessage(messages.error('auth', `the token "${connection.grant.name}" may only read channel ${channel}; nothing was sent`));
            return;
          }
          const reserved = reservedTag(text);
          if (reserved) connection.sendMessage(messages.error('reserved', reservedReason(reserved)));
          else membership.publish(text);
        },
        close: () => membership.leave(),
      };
    },
  };
  return endpoint;
}

function matchChannel(pathname: string): PathMatch {
  if (pathname === '/channel' || pathname === PREFIX) {
    return { status: 400, reason: `The channel name is missing: connect to ${PREFIX}<name>, e.g. ${PREFIX}lobby.` };
  }
  if (!pathname.startsWith(PREFIX)) return undefined;
  const raw = pathname.slice(PREFIX.length);
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw;
  }
  if (!CHANNEL_NAME.test(name)) {
    return { status: 400, reason: `"${clip(name)}" is not a valid channel name. A channel name is ${CHANNEL_NAME_RULE}.` };
  }
  return { params: { channel: name } };
}
