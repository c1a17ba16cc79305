/**
 * `resobridge doctor`: Resonite's troubleshooting checklist, run for real
 * against any WebSocket server. Each step has its own timeout, so the doctor
 * never hangs, even on a server that accepts TCP and says nothing.
 */
import { checkHttp } from './http.js';
import { REMINDERS, type Check, type DoctorReport } from './report.js';
import { checkResolve } from './resolve.js';
import { checkIdle, checkRoundTrip, checkTextOnly, closeCleanly, type IdleOptions } from './session.js';
import { checkUrl } from './target.js';
import { checkTcp } from './tcp.js';
import { checkTls } from './tls.js';
import { checkUpgrade } from './upgrade.js';

export interface DoctorOptions {
  /** Longest wait for any one step (default 2000 ms). */
  stepTimeoutMs?: number;
  /** How long to wait for a reply to the probe message (default 1000 ms). */
  replyWindowMs?: number;
  /** The text sent for the round trip (default `ping`). */
  probe?: string;
  /** Also check that a quiet connection stays up (takes 65 s by default). */
  idle?: boolean | Partial<IdleOptions>;
}

export async function runDoctor(input: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const started = performance.now();
  const timeoutMs = options.stepTimeoutMs ?? 2_000;
  const checks: Check[] = [];
  const report = (): DoctorReport => ({
    url: input,
    ok: checks.every((check) => check.status !== 'fail'),
    checks,
    reminders: REMINDERS,
    durationMs: Math.round(performance.now() - started),
  });

  const parsed = checkUrl(input);
  checks.push(...parsed.checks);
  const target = parsed.target;
  if (!target) return report();

  const resolved = await checkResolve(target.host, timeoutMs);
  checks.push(resolved.check);
  if (resolved.check.status === 'fail') return report();

  const tcp = await checkTcp(resolved.addresses, target.port, timeoutMs);
  checks.push(tcp.check);
  const address = tcp.address;
  if (!address) return report();

  if (target.secure) checks.push(await checkTls(address, target.host, target.port, timeoutMs));

  const http = await checkHttp(target, address, timeoutMs);
  checks.push(http);
  if (http.status === 'fail') return report();

  const upgrade = await checkUpgrade(target, address, timeoutMs);
  checks.push(upgrade.check);
  const { socket, inbox } = upgrade;
  if (!socket || !inbox) return report();

  try {
    checks.push(await checkRoundTrip(socket, inbox, options.replyWindowMs ?? 1_000, options.probe ?? 'ping'));
    if (options.idle) {
      const idle = typeof options.idle === 'object' ? options.idle : {};
      checks.push(await checkIdle(inbox, { durationMs: idle.durationMs ?? 65_000, silenceLimitMs: idle.silenceLimitMs ?? 60_000 }));
    } else {
      checks.push({ id: 'idle', title: 'Idle keepalive', status: 'skip', message: 'not checked (add --idle to check that a quiet connection stays up past 60 s; takes 65 s)' });
    }
    checks.push(checkTextOnly(inbox));
  } finally {
    await closeCleanly(socket, inbox, timeoutMs);
  }
  return report();
}
