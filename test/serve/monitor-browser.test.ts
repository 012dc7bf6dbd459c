/**
 * The monitoring page in a real browser (Debian's chromium driven by playwright-core): freshness bars
 * from a real SQLite online store's watermarks against declared SLOs, and per-feature histograms with
 * the reference overlaid and drift scores from ColumnStatistics built here (a mean shift, a new
 * category, rotated embeddings, and an unchanged feature). Screenshot in test-output/monitor.png.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureMonitor } from '../../src/online/monitor.js';
import { storeMonitorSource } from '../../src/online/monitor.js';
import { SqliteOnlineStore } from '../../src/online/sqlite.js';
import type { OnlineView } from '../../src/online/types.js';
import { monitorReport, startMonitorViewer, type MonitorViewer } from '../../src/serve/monitor-page.js';
import { ColumnStatistics } from '../../src/stats/statistics.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { rng } from '../helpers/random.js';

const OUT = join(process.cwd(), 'test-output');
const MIN = 60_000;

/** Normal(mean, sd) samples from a seeded uniform generator. */
function normals(seed: number, n: number, mean: number, sd: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

function features(): FeatureMonitor[] {
  const num = (seed: number, mean: number) => ColumnStatistics.create('numeric').addAll(normals(seed, 4000, mean, 1));
  const cats = (seed: number, values: string[]) => {
    const r = rng(seed);
    return ColumnStatistics.create('categorical').addAll(
      Array.from({ length: 3000 }, () => values[Math.floor(r() * values.length)]),
    );
  };
  const emb = (seed: number, rotate: boolean) => {
    const r = rng(seed);
    const s = ColumnStatistics.create('embedding', { dim: 8 });
    for (let i = 0; i < 2000; i++) {
      const v = new Float32Array(8);
      for (let d = 0; d < 8; d++) v[d] = (d === 0 ? 2 : 0) + (r() - 0.5);
      if (rotate) [v[0], v[1]] = [v[1], v[0]];
      s.add(v);
    }
    return s;
  };
  return [
    { view: 'trips', feature: 'fare', current: num(1, 1.5), reference: num(2, 0), referenceName: 'train' },
    { view: 'trips', feature: 'distance', current: num(3, 0), reference: num(4, 0), referenceName: 'train' },
    {
      view: 'drivers',
      feature: 'city',
      current: cats(5, ['berlin', 'paris', 'rome', 'oslo']),
      reference: cats(6, ['berlin', 'paris', 'rome']),
      referenceName: 'train',
    },
    {
      view: 'drivers',
      feature: 'profile_emb',
      current: emb(7, true),
      reference: emb(8, false),
      referenceName: 'train',
    },
  ];
}

describe.skipIf(chromiumMissing !== undefined)('monitoring page in chromium', () => {
  let dir: string;
  let store: SqliteOnlineStore;
  let viewer: MonitorViewer;
  let context: BrowserContext;
  const now = Date.UTC(2026, 11, 7, 12, 0, 0);
  const views: OnlineView[] = [
    { name: 'trips', entities: ['trip_id'], features: [{ name: 'fare', dtype: 'float64' }], freshnessMs: 15 * MIN },
    { name: 'drivers', entities: ['driver_id'], features: [{ name: 'city', dtype: 'string' }], freshnessMs: 15 * MIN },
    { name: 'riders', entities: ['rider_id'], features: [{ name: 'age', dtype: 'int64' }] },
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-monitor-browser-'));
    store = await SqliteOnlineStore.open(join(dir, 'online.sqlite'));
    await store.write([
      { view: 'trips', entityKey: { trip_id: 1 }, values: { fare: 3 }, eventTimestampMs: now - 2 * MIN },
      { view: 'drivers', entityKey: { driver_id: 1 }, values: { city: 'rome' }, eventTimestampMs: now - 3 * 3600_000 },
      { view: 'riders', entityKey: { rider_id: 1 }, values: { age: 30 }, eventTimestampMs: now - 40 * MIN },
    ]);
    const source = storeMonitorSource({ views, services: [] }, store, { features: () => Promise.resolve(features()) });
    viewer = await startMonitorViewer(source, { nowMs: now });
    await mkdir(OUT, { recursive: true });
    context = await launchChromium(join(dir, 'profile'), { viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await viewer?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers the report the page draws', async () => {
    const source = storeMonitorSource({ views, services: [] }, store, { features: () => Promise.resolve(features()) });
    const r = await monitorReport(source, { nowMs: now });
    expect(r.views.map((v) => [v.view, v.status, v.lagMs])).toEqual([
      ['drivers', 'breached', 3 * 3600_000],
      ['riders', 'no_slo', 40 * MIN],
      ['trips', 'ok', 2 * MIN],
    ]);
    const drifted = Object.fromEntries(r.features.map((f) => [f.feature, f.drifted]));
    expect(drifted).toEqual({ fare: true, distance: false, city: true, profile_emb: true });
    const emb = r.features.find((f) => f.feature === 'profile_emb')!;
    expect(emb.drift?.meanCosineShift).toBeGreaterThan(0.5);
    for (const f of r.features) {
      expect(f.histogram.current.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(f.histogram.reference!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    expect(r.features.find((f) => f.feature === 'city')!.histogram.labels).toContain('oslo');
  });

  it('draws freshness bars and histograms with the reference overlaid', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#status')).toBe('');

    // one bar group per view, coloured by status, with the SLO tick where one is declared
    const groups = page.locator('svg.freshness g.view');
    expect(await groups.count()).toBe(3);
    expect(await page.locator('svg.freshness g.view[data-status="breached"]').getAttribute('data-view')).toBe(
      'drivers',
    );
    expect(await page.locator('svg.freshness g.view[data-status="ok"]').getAttribute('data-view')).toBe('trips');
    expect(await page.locator('svg.freshness line.slo').count()).toBe(2);
    expect(await page.locator('svg.freshness rect.lag').count()).toBe(3);
    // the breached bar reaches past its SLO tick, the fresh one stops short of it
    const bar = async (view: string) => {
      const g = page.locator(`svg.freshness g.view[data-view="${view}"]`);
      const lag = await g.locator('rect.lag').boundingBox();
      const slo = await g.locator('line.slo').boundingBox();
      return { end: lag!.x + lag!.width, slo: slo!.x };
    };
    const drivers = await bar('drivers');
    expect(drivers.end).toBeGreaterThan(drivers.slo);
    const trips = await bar('trips');
    expect(trips.end).toBeLessThan(trips.slo);

    // four histogram cards: bars for the current values, an outline for the reference; drifted ones marked
    expect(await page.locator('.feature-card').count()).toBe(4);
    expect(await page.locator('.feature-card svg.histogram rect.bar').count()).toBeGreaterThan(24 * 3);
    expect(await page.locator('.feature-card svg.histogram path.reference').count()).toBe(4);
    const marked = await page
      .locator('.feature-card.drifted')
      .evaluateAll((cards) => cards.map((c) => (c as unknown as { dataset: Record<string, string> }).dataset.feature));
    expect(marked.sort()).toEqual(['drivers:city', 'drivers:profile_emb', 'trips:fare']);
    expect(await page.textContent('.feature-card[data-feature="trips:fare"] .scores')).toMatch(/PSI \d/);
    expect(await page.textContent('.feature-card[data-feature="drivers:profile_emb"] .scores')).toMatch(
      /mean shift \d\.\d+ \(limit 0\.1\) · MMD² /,
    );
    await page.screenshot({ path: join(OUT, 'monitor.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
