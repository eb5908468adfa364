import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium): Playwright cannot download its own browser here. */
export const CHROMIUM = process.env.TRIPLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests must skip (no Chromium), or false. Under CI a missing browser fails the run instead. */
export function chromiumSkipReason(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required under CI for the dashboard tests (apt-get install chromium)`);
  console.warn(`\n!!! SKIPPING the dashboard browser tests: ${CHROMIUM} is missing (apt-get install chromium) !!!\n`);
  return `${CHROMIUM} is not installed`;
}

export interface TestBrowser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/**
 * Headless Chromium without GPU, network extras or first-run noise, on a fresh profile folder
 * (deleted on close), with a laptop-sized window.
 */
export async function launchChromium(options: { width?: number; height?: number } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tripline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: options.width ?? 1366, height: options.height ?? 768 },
    locale: 'en-GB',
    timezoneId: 'Europe/Brussels',
    reducedMotion: 'reduce',
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
