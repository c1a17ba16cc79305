/** The server's own operations for its /mcp endpoint, as the caller's token allows them. */
import type { Grant } from '../auth/access.js';
import type { ApiOperations } from '../server/api-operations.js';
import type { Answer, ResobridgeApi } from './api.js';

export function localApi(operations: ApiOperations, grant: Grant, who: readonly string[]): ResobridgeApi {
  const done = (reply: Answer) => Promise.resolve(reply);
  return {
    channels: () => operations.channels(grant),
    members: (channel) => operations.members(grant, channel),
    history: (channel, limit) => operations.history(grant, channel, limit),
    next: (channel, seconds, signal) => operations.next(grant, channel, seconds, who, signal),
    publish: (channel, text, name) => done(operations.publish(grant, channel, text, name)),
    getKey: (ns, key) => operations.getKey(grant, ns, key),
    setKey: (ns, key, value) => operations.setKey(grant, ns, key, value),
    deleteKey: (ns, key) => operations.deleteKey(grant, ns, key),
    listKeys: (ns, prefix) => operations.listKeys(grant, ns, prefix),
    connections: () => done(operations.connections(grant)),
  };
}
