/** The viewer's query bar in chromium: type a SELECT, see the answer table; a bad query shows the error. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { startViewer, type Viewer } from '../../src/serve/viewer.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';

describe.skipIf(chromiumMissing !== undefined)('viewer query bar in chromium', () => {
  let dir: string;
  let ds: Dataset;
  let viewer: Viewer;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-viewer-sql-browser-'));
    ds = await Dataset.create(join(dir, 'ds'), { schema: { label: 'text', n: 'int32' } });
    await ds.extend({ label: ['a', 'b', 'a', null], n: [1, 2, 3, 4] });
    await ds.commit('rows');
    viewer = await startViewer(ds);
    context = await launchChromium(join(dir, 'profile'));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await viewer?.close();
    await ds?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the query and shows the answer; errors show in the result area', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#sql-input', 'SELECT label, sum(n) AS s FROM ds GROUP BY label ORDER BY label NULLS LAST');
    await page.press('#sql-input', 'Enter');
    await page.waitForSelector('#sql-result table');
    const cells = (await page.locator('#sql-result tr').allInnerTexts()).map((t) => t.split('\t'));
    expect(cells).toEqual([
      ['label', 's'],
      ['a', '4'],
      ['b', '2'],
      ['∅', '4'],
    ]);
    expect(await page.textContent('#sql-result .sql-meta')).toBe('3 rows');
    await page.fill('#sql-input', 'SELECT nope FROM ds');
    await page.click('#sql-form button');
    await page.waitForSelector('#sql-result .sql-meta.error');
    expect(await page.textContent('#sql-result .sql-meta.error')).toContain('INVALID_ARGUMENT');
    expect(errors).toEqual([]);
  }, 60_000);
});
