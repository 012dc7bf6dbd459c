/**
 * Debian's chromium driven by playwright-core, for the browser tests. `chromiumMissing` says why the
 * browser cannot run (the tests skip outside CI and fail in CI); `launchChromium` opens a headless
 * persistent context whose profile lives in the given folder.
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumMissing: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `chromium not found at ${CHROMIUM} (apt-get install chromium)`;

if (chromiumMissing && process.env.CI) throw new Error(`browser test cannot run in CI: ${chromiumMissing}`);
if (chromiumMissing) console.warn(`skipping the browser tests: ${chromiumMissing}`);

export function launchChromium(
  profileDir: string,
  options: { readonly viewport?: { readonly width: number; readonly height: number } } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    ...(options.viewport ? { viewport: { ...options.viewport } } : {}),
  });
}
