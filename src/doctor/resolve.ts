/** Check 3: the host name resolves, and who can reach the addresses it gives. */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { within } from '../util/timeout.js';
import { reachOf } from './address.js';
import type { Check } from './report.js';

export async function checkResolve(host: string, timeoutMs: number): Promise<{ check: Check; addresses: string[] }> {
  const title = 'Address';
  if (isIP(host)) return { check: withReach({ id: 'resolve', title, status: 'pass', message: host }, [host]), addresses: [host] };
  const result = await within(
    lookup(host, { all: true }).then(
      (found) => found.map((entry) => entry.address),
      (error: NodeJS.ErrnoException) => error,
    ),
    timeoutMs,
    'timeout' as const,
  );
  if (result === 'timeout') {
    return { check: { id: 'resolve', title, status: 'fail', message: `looking up ${host} took over ${timeoutMs} ms`, fix: 'Check your DNS or use an IP address.' }, addresses: [] };
  }
  if (result instanceof Error) {
    return {
      check: {
        id: 'resolve',
        title,
        status: 'fail',
        message: `the name ${host} does not resolve (${result.code ?? result.message})`,
        fix: 'Check the spelling of the host name, or use the IP address the server prints.',
      },
      addresses: [],
    };
  }
  return { check: withReach({ id: 'resolve', title, status: 'pass', message: `${host} → ${result.join(', ')}` }, result), addresses: result };
}

function withReach(check: Check, addresses: string[]): Check {
  const reach = addresses.map(reachOf);
  if (reach.every((r) => r === 'loopback')) {
    return { ...check, note: "this computer only: the HandlingUser must be the person on this computer ('localhost' is their own PC)" };
  }
  if (reach.every((r) => r !== 'public')) {
    return { ...check, note: "a private network address: only machines on that network can connect, so the HandlingUser's must be one of them" };
  }
  return check;
}
