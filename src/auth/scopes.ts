/**
 * What a token allows, one scope per entry:
 *   echo                          the /echo endpoint
 *   api        (or api:rw)        command mode, reading and writing keys
 *   api:r                         command mode, reading keys only (get, keys, watch)
 *   channel:<pattern>             receive and publish in matching channels (also :rw)
 *   channel:<pattern>:r           receive only: a read key (a write key, the default, also receives)
 *   connections                   list the open connections over HTTP (names, endpoints; no addresses)
 *   /<path>                       a custom endpoint
 *   *                             everything
 * A pattern matches channel names, with * for any run of characters: `world-a.*`.
 */

export type Permission = { read: boolean; write: boolean };

export type Scope =
  | { kind: 'all' }
  | { kind: 'echo' }
  | { kind: 'connections' }
  | { kind: 'api'; permission: Permission }
  | { kind: 'channel'; pattern: RegExp; permission: Permission }
  | { kind: 'path'; path: string };

const PERMISSIONS: Record<string, Permission> = {
  r: { read: true, write: false },
  rw: { read: true, write: true },
};

export function parseScope(text: string): { ok: true; scope: Scope } | { ok: false } {
  if (text === '*') return { ok: true, scope: { kind: 'all' } };
  if (text === 'echo') return { ok: true, scope: { kind: 'echo' } };
  if (text === 'connections') return { ok: true, scope: { kind: 'connections' } };
  if (text.startsWith('/') && /^\/[\w./~-]*$/.test(text)) return { ok: true, scope: { kind: 'path', path: text } };
  const [kind, ...rest] = text.split(':');
  if (kind === 'api' && rest.length <= 1) {
    const permission = PERMISSIONS[rest[0] ?? 'rw'];
    return permission ? { ok: true, scope: { kind: 'api', permission } } : { ok: false };
  }
  if (kind === 'channel' && (rest.length === 1 || rest.length === 2) && /^[\w.*-]{1,64}$/.test(rest[0] ?? '')) {
    const permission = PERMISSIONS[rest[1] ?? 'rw'];
    if (!permission) return { ok: false };
    const pattern = new RegExp(`^${(rest[0] ?? '').replace(/[.-]/g, '\\$&').replaceAll('*', '[\\w.-]*')}$`);
    return { ok: true, scope: { kind: 'channel', pattern, permission } };
  }
  return { ok: false };
}
