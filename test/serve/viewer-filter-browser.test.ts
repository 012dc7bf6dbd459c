/**
 * The viewer's filter in chromium over non-text values: the page must send back the value the server listed
 * (a boolean stays a boolean), not a string coerced to a number. Skipped without chromium outside CI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { startViewer, type Viewer } from '../../src/serve/viewer.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';

describe.skipIf(chromiumMissing !== undefined)('viewer filter in chromium', () => {
  let dir: string;
  let ds: Dataset;
  let viewer: Viewer;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-viewer-filter-'));
    ds = await Dataset.create(join(dir, 'ds'), {
      schema: { flag: { htype: 'generic', dtype: 'bool' }, n: { htype: 'generic', dtype: 'int32' } },
    });
    for (let i = 0; i < 5; i++) await ds.append({ flag: i % 2 === 0, n: i * 10 });
    await ds.commit('flags');
    viewer = await startViewer(ds);
    context = await launchChromium(join(dir, 'profile'));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await viewer?.close();
    await ds?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('filters a boolean column and a numeric one by the listed values', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–5 of 5');

    await page.selectOption('#filter-column', 'flag');
    await page.waitForSelector('#filter-value[data-loaded="true"]');
    await page.selectOption('#filter-value', 'true');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–3 of 3');
    await page.selectOption('#filter-value', 'false');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–2 of 2');

    await page.selectOption('#filter-column', 'n');
    await page.waitForSelector('#filter-value option[value="30"]', { state: 'attached' });
    await page.selectOption('#filter-value', '30');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–1 of 1');
    expect(await page.locator('#grid .card').getAttribute('data-row')).toBe('3');
    expect(errors).toEqual([]);
  }, 60_000);
});
