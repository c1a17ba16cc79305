/**
 * What bridge specs share: each bridge type's schema lives in its own file,
 * and bridges/registry.ts joins them into the `bridges:` setting.
 */
import { z } from 'zod';
import { NAME, NAME_RULE } from '../protocol/names.js';
import { SECRET } from './secret.js';

export const command = z.string().min(1, 'the command is empty');
export const channelName = z.string().regex(NAME, `a channel name is ${NAME_RULE}`);
export const port = z.number().int().min(1).max(65535);
/** A bridge's own name: in logs, /healthz and the dashboard. */
export const bridgeName = z.string().min(1).max(64);
/** A WebSocket service's URL: ws:// or wss://, and one that parses (a space or a bad port is caught here, not at connect time). */
export const webSocketUrl = (example: string) =>
  z
    .string()
    .regex(/^wss?:\/\/.+/i, `url must start with wss:// (or ws://), e.g. ${example}`)
    .refine((url) => URL.canParse(url), { message: `url is not a valid URL (a space, a bad port?), e.g. ${example}` });
/** An HTTP token (RFC 9110): a header name, or a WebSocket subprotocol. */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers sent to an app; each value may be a secret ({env} or {file}). */
export const headers = z.record(z.string().regex(HTTP_TOKEN), SECRET, {
  error: (issue) => (issue.code === 'invalid_key' ? 'a header name is letters, digits and dashes, e.g. Authorization' : undefined),
});
