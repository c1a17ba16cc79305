/** Check 4: something accepts TCP connections there. Refused and silent are different problems. */
import { connect } from 'node:net';
import type { Check } from './report.js';

type Outcome = { ok: true; ms: number } | { ok: false; code: string };

function tryConnect(address: string, port: number, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const finish = (outcome: Outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, code: 'ETIMEDOUT' }));
    socket.once('connect', () => finish({ ok: true, ms: Math.round(performance.now() - started) }));
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, code: error.code ?? error.message }));
  });
}

/** Tries each address in turn, as a client would; returns the one that answered. */
export async function checkTcp(addresses: string[], port: number, timeoutMs: number): Promise<{ check: Check; address?: string }> {
  const title = 'TCP connect';
  const failures: string[] = [];
  for (const address of addresses) {
    const outcome = await tryConnect(address, port, timeoutMs);
    const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
    if (outcome.ok) {
      const note = failures.length > 0 ? `not on ${failures.join(', ')} (a client that tries those first may be slow to connect)` : undefined;
      return { check: { id: 'tcp', title, status: 'pass', message: `connected to ${where} in ${outcome.ms} ms`, note }, address };
    }
    failures.push(`${where} (${outcome.code})`);
    if (addresses.length === 1 || address === addresses.at(-1)) {
      return { check: explain(outcome.code, where, port, timeoutMs, failures) };
    }
  }
  return { check: { id: 'tcp', title, status: 'fail', message: 'no address to connect to' } };
}

function explain(code: string, where: string, port: number, timeoutMs: number, failures: string[]): Check {
  const base = { id: 'tcp', title: 'TCP connect' };
  const tried = failures.length > 1 ? ` (tried ${failures.join(', ')})` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return {
        ...base,
        status: 'fail',
        message: `nothing is listening on ${where}${tried}`,
        fix: `Start the server (e.g. npm start / resobridge serve), and check the port: the server's banner shows it (is it ${port}?).`,
      };
    case 'ETIMEDOUT':
      return {
        ...base,
        status: 'fail',
        message: `no answer from ${where} within ${timeoutMs} ms${tried}`,
        fix: 'A firewall drops the connection, or the address is wrong. Allow the port in the firewall of the server machine, or check the address.',
      };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { ...base, status: 'fail', message: `${where} cannot be reached from here (${code})${tried}`, fix: 'Check the address and that both machines are on a network that connects them.' };
    default:
      return { ...base, status: 'fail', message: `cannot connect to ${where}: ${code}${tried}`, fix: 'Check the address and port.' };
  }
}
