/**
 * Debian's Chromium driven by playwright-core, for the browser tests. Never downloads a browser:
 * it runs `/usr/bin/chromium` (or `REKEY_CHROMIUM`) headless with a fresh profile directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type BrowserContext, chromium } from 'playwright-core';

/** The browser binary the tests use. */
export const CHROMIUM_PATH = process.env.REKEY_CHROMIUM ?? '/usr/bin/chromium';

/** A launched browser (one context over a fresh profile) and how to remove it again. */
export interface LaunchedBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with networking features that would call out turned off. */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'rekey-chromium-'));
  // Playwright takes the profile directory itself rather than as `--user-data-dir`.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
