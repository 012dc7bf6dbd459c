/**
 * The viewer in a real browser (Debian's chromium driven by playwright-core): load the page,
 * filter by a label, open an image, click "similar", check what is shown; screenshots go to
 * test-output/. Without chromium the test is skipped outside CI and fails in CI.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/dataset/dataset.js';
import { startViewer, type Viewer } from '../../src/serve/viewer.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { makeVideoDataset, makeViewerDataset } from './viewer-fixture.js';

/** What these tests read of a grid card in the page (the project's TypeScript lib has no DOM). */
interface CardElement {
  readonly dataset: Readonly<Record<string, string | undefined>>;
  querySelector(selector: string): { readonly textContent: string | null } | null;
}

const OUT = join(process.cwd(), 'test-output');
const ALL_THUMBS_LOADED = "[...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0)";

describe.skipIf(chromiumMissing !== undefined)('viewer in chromium', () => {
  let dir: string;
  let ds: Dataset;
  let viewer: Viewer;
  let videos: Dataset;
  let videoViewer: Viewer;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-viewer-browser-'));
    ds = await makeViewerDataset(join(dir, 'ds'), 90);
    viewer = await startViewer(ds, { pageSize: 24 });
    videos = await makeVideoDataset(join(dir, 'videos'));
    videoViewer = await startViewer(videos);
    await mkdir(OUT, { recursive: true });
    context = await launchChromium(join(dir, 'profile'), { viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await viewer?.close();
    await videoViewer?.close();
    await ds?.close();
    await videos?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('filters by label, opens an image, shows similar images', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));

    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await expect.poll(() => page.locator('#grid .card').count()).toBe(24);
    expect(await page.textContent('#page-info')).toBe('1–24 of 90');
    expect(await page.textContent('#dataset-meta')).toContain('90 rows');

    // the label column is preselected as the filter; pick "bird"
    await page.waitForSelector('#filter-value[data-loaded="true"]');
    await page.selectOption('#filter-value', 'bird');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–24 of 30');
    const labels = await page
      .locator('#grid .card')
      .evaluateAll((cards: CardElement[]) => cards.map((c) => c.dataset.label as string));
    expect(new Set(labels)).toEqual(new Set(['bird']));

    // thumbnails really loaded (decoded by the browser), boxes drawn over them
    await page.waitForFunction(ALL_THUMBS_LOADED);
    expect(await page.locator('#grid .card').first().locator('svg.boxes rect').count()).toBe(1);

    // next page of birds
    await page.click('#next');
    await expect.poll(() => page.textContent('#page-info')).toBe('25–30 of 30');
    expect(await page.locator('#grid .card').count()).toBe(6);
    await page.click('#prev');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–24 of 30');
    await page.screenshot({ path: join(OUT, 'viewer-filtered.png'), fullPage: false });

    // open one image
    const first = page.locator('#grid .card').first();
    const row = await first.getAttribute('data-row');
    await first.click();
    await page.waitForSelector('#detail.on');
    await page.waitForFunction(
      "(() => { const i = document.querySelector('#detail-frame img'); return Boolean(i && i.complete && i.naturalWidth > 0); })()",
    );
    expect(await page.locator('#detail-values').textContent()).toContain(`bird number ${row}`);
    expect(await page.locator('#detail-frame svg.boxes rect').count()).toBe(1);
    await page.screenshot({ path: join(OUT, 'viewer-detail.png') });

    // similar images: all birds (the embeddings cluster by label), not the query row itself, best first
    await page.click('#similar');
    await page.waitForSelector('#banner.on');
    expect(await page.textContent('#banner-text')).toContain(`row #${row}`);
    await expect.poll(() => page.locator('#grid').getAttribute('data-mode')).toBe('similar');
    const cards = page.locator('#grid .card');
    expect(await cards.count()).toBeGreaterThan(5);
    const shown = await cards.evaluateAll((cs: CardElement[]) =>
      cs.map((c) => ({
        row: c.dataset.row as string,
        label: c.dataset.label as string,
        score: Number(c.querySelector('.score')?.textContent),
      })),
    );
    expect(shown.every((s) => s.label === 'bird')).toBe(true);
    expect(shown.map((s) => s.row)).not.toContain(row);
    expect(shown.map((s) => s.score)).toEqual([...shown.map((s) => s.score)].sort((a, b) => b - a));
    await page.waitForFunction(ALL_THUMBS_LOADED);
    await page.screenshot({ path: join(OUT, 'viewer-similar.png'), fullPage: true });

    // back to the filtered grid
    await page.click('#back');
    await expect.poll(() => page.textContent('#page-info')).toBe('1–24 of 30');
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows video posters and scrubs through frames', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${videoViewer.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await expect.poll(() => page.locator('#grid .card').count()).toBe(2);
    await page.waitForFunction(ALL_THUMBS_LOADED);
    expect(await page.locator('#grid .card .tag').first().textContent()).toContain('2.0 s');
    await page.locator('#grid .card').nth(1).click();
    await page.waitForSelector('#scrub-wrap.on');
    const img = page.locator('#detail-frame img');
    const before = await img.getAttribute('src');
    expect(before).toContain('/api/thumb/clip/1');
    await page.locator('#scrub').fill('1.5');
    await expect.poll(() => img.getAttribute('src')).toContain('/api/frame/clip/1?size=1024&t=1.500');
    await page.waitForFunction(
      "(() => { const i = document.querySelector('#detail-frame img'); return Boolean(i && i.complete && i.naturalWidth > 0); })()",
    );
    expect(await page.textContent('#scrub-time')).toBe('1.50 s');
    await page.screenshot({ path: join(OUT, 'viewer-video.png') });
    expect(errors).toEqual([]);
  }, 60_000);
});
