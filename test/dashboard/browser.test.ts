/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core signs in, starts a
 * rotation from the overview, watches the run page's bar reach 100% without a reload, and finds
 * the inventory on the new version. It saves screenshots of both pages (and the overview at phone
 * width) to test/dashboard/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CHROMIUM_PATH,
  type LaunchedBrowser,
  launchChromium,
} from '../../apps/dashboard/src/testing/chromium.ts';
import {
  type ServedDashboard,
  serveTestStack,
  TEST_TOKENS,
} from '../../apps/dashboard/src/testing/serve-test-stack.ts';

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const DEKS_PER_DATABASE = 3_000;

let served: ServedDashboard;
let chromium: LaunchedBrowser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  served = await serveTestStack({
    databases: [
      { name: 'orders', kind: 'postgres' },
      { name: 'accounts', kind: 'postgres' },
      { name: 'audit_log', kind: 'memory' },
    ],
    kekNames: ['pii', 'billing'],
    deks: DEKS_PER_DATABASE,
    engine: true,
    // About 750 DEKs a second: long enough to watch the bars move.
    requestsPerSecond: 1_500,
    concurrency: 1,
    every: '90d',
  });
  chromium = await launchChromium();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await served?.close();
});

describe.skipIf(!existsSync(CHROMIUM_PATH))('the dashboard in Chromium', () => {
  it('signs in, rotates a KEK from the page and shows it live to 100% and in the inventory', async () => {
    const page = await chromium.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });

    // Signing in: the overview sends us to the login page and back.
    await page.goto(`${served.url}/`);
    await expect.poll(() => page.url()).toContain('/login');
    await page.getByLabel('Access token').fill(TEST_TOKENS.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${served.url}/`);
    await page.locator('#keks article').first().waitFor();
    await page.locator('[data-kek="pii"] canvas').waitFor();
    await page.waitForFunction(
      () => document.getElementById('live-status')?.dataset.state === 'live',
    );
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
    const oldPrimary = await page
      .locator('article[aria-label="KEK pii"] .versions li', { hasText: 'primary' })
      .locator('.ref')
      .textContent();

    // Starting a rotation from the page, by keyboard.
    await page.getByLabel('Rotate KEK').selectOption('pii');
    await page.getByRole('button', { name: 'Rotate now' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const runUrl = page.url();

    // The bar moves without a reload: the page's own document stays the same throughout.
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same-document';
    });
    await page.waitForFunction(
      () => {
        const p = Number(document.getElementById('run-progress')?.getAttribute('value'));
        return p > 0 && p < 100;
      },
      null,
      { timeout: 60_000, polling: 50 },
    );
    await page.screenshot({ path: join(SHOTS, 'run-in-progress.png'), fullPage: true });
    await page.waitForFunction(
      () => document.getElementById('run-progress')?.getAttribute('value') === '100',
      null,
      { timeout: 120_000 },
    );
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
      'same-document',
    );
    expect(page.url()).toBe(runUrl);
    await expect.poll(() => page.locator('#run-title .badge').textContent()).toBe('Completed');
    await expect.poll(() => page.locator('#run-audit').textContent()).toContain('run.completed');
    const done = await page
      .locator('#run-summary .stat', { hasText: 'Done' })
      .locator('dd')
      .textContent();
    expect(done).toBe((3 * DEKS_PER_DATABASE).toLocaleString('en'));
    await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });

    // The overview's inventory moved to the new version in every database.
    await page.getByRole('link', { name: 'Overview' }).first().click();
    await page.waitForURL(`${served.url}/`);
    const newPrimary = await page
      .locator('article[aria-label="KEK pii"] .versions li', { hasText: 'primary' })
      .locator('.ref')
      .textContent();
    expect(newPrimary).not.toBe(oldPrimary);
    const table = page.locator('[data-kek="pii"] table');
    for (const db of ['orders', 'accounts', 'audit_log']) {
      const row = table.locator(`tr[data-database="${db}"]`);
      await expect
        .poll(() => row.locator(`td[data-ref="${newPrimary}"]`).textContent())
        .toBe(DEKS_PER_DATABASE.toLocaleString('en'));
      expect(await row.locator(`td[data-ref="${oldPrimary}"]`).count()).toBe(0);
    }
    await page.locator('[data-kek="pii"] summary').click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'overview-after.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SHOTS, 'overview-phone.png'), fullPage: true });
    await page.goto(runUrl);
    await page.locator('#run-progress').waitFor();
    await page.screenshot({ path: join(SHOTS, 'run-phone.png'), fullPage: true });

    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);

  it('loads the read-only queue board for a viewer, with no script blocked by the CSP', async () => {
    const page = await chromium.context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    await page.goto(`${served.url}/login`);
    await page.getByLabel('Access token').fill(TEST_TOKENS.viewer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${served.url}/`);
    await page.goto(`${served.url}/queues/`);
    await page.getByText('batch.orders').first().click({ timeout: 30_000 });
    await page.waitForURL(/\/queues\/queue\/batch\.orders/);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(SHOTS, 'queues.png') });
    expect(blocked.filter((b) => /script/i.test(b))).toEqual([]);
    await page.close();
  }, 60_000);
});
