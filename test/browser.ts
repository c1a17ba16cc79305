/**
 * Debian's Chromium, driven by playwright-core (Playwright's own browser
 * download does not work on these machines). `.ci/run` installs it with
 * `apt-get install -y chromium`; elsewhere, browser tests skip when it is missing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `false` when Chromium is there (or CI requires it); otherwise the reason to skip. */
export function skipUnlessChromium(): string | false {
  if (process.env.CI === 'true' || existsSync(CHROMIUM)) return false;
  return `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH; CI=true makes this a failure)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // No network here: without these, Chromium keeps trying to reach Google's hosts.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
