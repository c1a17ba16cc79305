/** Which addresses only some machines can reach: loopback and private LAN ranges. */
import { isIP } from 'node:net';

export type Reach = 'loopback' | 'private' | 'public';

export function reachOf(address: string): Reach {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split('.').map(Number);
    if (a === 127) return 'loopback';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)) return 'private';
    if (a === 100 && b >= 64 && b <= 127) return 'private';
    return 'public';
  }
  const lower = address.toLowerCase();
  if (lower === '::1') return 'loopback';
  if (/^f[cd]/.test(lower) || /^fe[89ab]/.test(lower)) return 'private';
  return 'public';
}
