/**
 * Who may open the dashboard. It can read every message and change every key,
 * so it is never open to other machines: on a loopback address (and not behind
 * a proxy) it is open, as only this PC can reach it; anywhere else it takes an
 * admin token, `dashboardToken` or a token that allows `*`. With neither
 * configured there, it is off, and the page says how to turn it on.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isAdmin, type Access } from '../auth/access.js';
import type { Config } from '../config/fields.js';
import { isLoopback } from '../server/urls.js';

export type DashboardAccess =
  | { kind: 'off'; reason: string }
  | { kind: 'open' }
  | { kind: 'token'; admits(token: string): boolean };

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Where the dashboard is on (config.dashboard): whether it is open, needs a token, or must stay off here. */
export function dashboardAccess(config: Config, access: Access): DashboardAccess {
  if (isLoopback(config.host) && !config.trustProxy) return { kind: 'open' };
  // With no tokens configured, Access lets anyone in: that never counts for the dashboard.
  const adminTokens = !access.open;
  if (!config.dashboardToken && !adminTokens) {
    return {
      kind: 'off',
      reason:
        `The dashboard is off: this server listens on ${config.host}, where other machines can reach it, and no admin token is set. ` +
        'Start it with --dashboard-token YOUR-SECRET (or configure a token that allows *), then open this page again.',
    };
  }
  const dashboardHash = config.dashboardToken ? sha256(config.dashboardToken) : undefined;
  return {
    kind: 'token',
    admits(token) {
      if (dashboardHash && timingSafeEqual(sha256(token), dashboardHash)) return true;
      if (!adminTokens) return false;
      const result = access.authenticate(token);
      return result.ok && isAdmin(result.grant);
    },
  };
}
