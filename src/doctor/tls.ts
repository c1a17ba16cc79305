/** Check 5 (wss only): the TLS handshake, and a certificate Resonite will trust for this host. */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { Check } from './report.js';

/** The name sent in TLS SNI: a host name, never an IP address (RFC 6066; Node warns when given one). */
export const tlsServerName = (host: string): string | undefined => (isIP(host.replace(/^\[|\]$/g, '')) ? undefined : host);

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const FIX_CERT =
  'Use a certificate from a public authority (e.g. Let\'s Encrypt), or put the server behind a reverse proxy that has one. On the same machine, plain ws://localhost needs no certificate.';

type Handshake = { ok: true; authorized: boolean; error?: string; cert: PeerCertificate } | { ok: false; error: string };

function handshake(address: string, host: string, port: number, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, servername: tlsServerName(host), rejectUnauthorized: false });
    const finish = (result: Handshake) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, error: `no TLS answer within ${timeoutMs} ms` }));
    socket.once('secureConnect', () =>
      finish({ ok: true, authorized: socket.authorized, error: socket.authorizationError?.toString(), cert: socket.getPeerCertificate() }),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, error: error.code ?? error.message }));
  });
}

export async function checkTls(address: string, host: string, port: number, timeoutMs: number): Promise<Check> {
  const base = { id: 'tls', title: 'TLS' };
  const result = await handshake(address, host, port, timeoutMs);
  if (!result.ok) {
    const notTls = /WRONG_VERSION_NUMBER|wrong version|ECONNRESET|packet length/i.test(result.error);
    return {
      ...base,
      status: 'fail',
      message: `the TLS handshake failed (${result.error})`,
      fix: notTls ? 'The server does not speak TLS here: use ws:// instead of wss://.' : 'Check the server\'s TLS setup.',
    };
  }
  const subject = result.cert.subject?.CN ?? result.cert.subjectaltname ?? 'unknown';
  if (!result.authorized) {
    const selfSigned = SELF_SIGNED.has(result.error ?? '');
    return {
      ...base,
      status: 'fail',
      message: selfSigned
        ? `the certificate (${subject}) is self-signed: Resonite will refuse to connect`
        : `the certificate (${subject}) is not trusted: ${result.error ?? 'unknown reason'}`,
      fix: FIX_CERT,
    };
  }
  const identity = checkServerIdentity(host, result.cert);
  if (identity) {
    return { ...base, status: 'fail', message: `the certificate is for ${subject}, not for ${host}`, fix: `Use a certificate issued for ${host}, or connect with the name the certificate is for.` };
  }
  return { ...base, status: 'pass', message: `trusted certificate for ${host}, valid until ${result.cert.valid_to}` };
}
