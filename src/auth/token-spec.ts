/**
 * Access tokens as written in the config file:
 *
 *   tokens:
 *     - name: world-a
 *       sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
 *       allow: [api, "channel:lobby", "channel:news:r"]
 *
 * `token:` (the secret itself) or `sha256:` (its hash, so the file holds no secret).
 * Each `allow` entry is a scope; see scopes.ts.
 */
import { z } from 'zod';
import { parseScope } from './scopes.js';

const scope = z.string().refine((text) => parseScope(text).ok, {
  message: 'not a scope: use echo, api, api:r, channel:<pattern>, channel:<pattern>:r, connections, /<path> or *',
});

export const TOKEN_SPEC = z
  .object({
    name: z.string().min(1).max(64),
    token: z.string().min(16, 'a token must have at least 16 characters').optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits').optional(),
    allow: z.array(scope).min(1),
  })
  .strict()
  .refine((spec) => (spec.token === undefined) !== (spec.sha256 === undefined), { message: 'give either token or sha256, not both' });

export const TOKENS_SCHEMA = z.array(TOKEN_SPEC);
export type TokenSpec = z.infer<typeof TOKEN_SPEC>;
