/**
 * Short random ids (6 hex digits) for telling connections apart in logs, cut
 * from one pool of random bytes: one crypto call per 1,365 ids instead of one
 * per connection (a connect storm makes thousands a second).
 */
import { randomFillSync } from 'node:crypto';

const ID_BYTES = 3;
const pool = Buffer.alloc(4_096 - (4_096 % ID_BYTES));
let used = pool.length;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

export function shortId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const id = `${HEX[pool[used] ?? 0]}${HEX[pool[used + 1] ?? 0]}${HEX[pool[used + 2] ?? 0]}`;
  used += ID_BYTES;
  return id;
}
