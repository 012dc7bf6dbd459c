/**
 * Drift in `strata monitor` and `/metrics`: a YAML repo over a CSV source materialized twice into
 * SQLite (in-process, runs `ref` then `now`); the second run's source is either shifted (amount mean
 * +1 σ, a new category) or a resample of the same distribution. `strata monitor --reference ref`
 * (a child process) exits 4 and names the drifted feature, or 0; a declared `monitoring.reference`
 * is the default reference; `/metrics` of the feature server carries the drift gauges.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureRepo } from '../../src/features/index.js';
import {
  SqliteOnlineStore,
  driftFeatureMonitors,
  materialize,
  storeMonitorSource,
  viewDriftStatus,
} from '../../src/online/index.js';
import { createFeatureServer, monitorReport } from '../../src/serve/index.js';
import type { MonitorResponse } from '../../src/serve/viewer/monitor-wire.js';
import { rng } from '../helpers/random.js';
import { txRepoYaml } from '../helpers/tx-repo.js';
import { strata } from './run-cli.js';

const T0 = Date.UTC(2024, 0, 1);
const START = new Date(T0 - 1);
const END = new Date(T0 + 86_400_000);
const USERS = 2000;

/** One event per user: amount ~ N(mean, 15), category c0..c3 (or `new` with probability `extra`). */
function eventsCsv(seed: number, mean: number, extra: number): string {
  const r = rng(seed);
  const lines = ['event_id,user_id,event_timestamp,amount,category'];
  for (let i = 0; i < USERS; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const t = new Date(T0 + Math.floor(r() * 80_000_000)).toISOString();
    const cat = r() < extra ? 'new' : `c${Math.floor(r() * 4)}`;
    lines.push(`e${i},u${i},${t},${(mean + 15 * normal).toFixed(3)},${cat}`);
  }
  return lines.join('\n') + '\n';
}

function yaml(project: string, monitoring = ''): string {
  return txRepoYaml({ project, view: 'tx_latest', features: ['amount', 'category'], idField: 'event_id', monitoring });
}

let dir: string;

/** A repo materialized twice: run `ref` over seed 1, run `now` over seed 2 (shifted or not). */
async function twoRuns(name: string, shifted: boolean, monitoring = ''): Promise<string> {
  const repoDir = join(dir, name);
  await mkdir(repoDir);
  await writeFile(join(repoDir, 'strata.yaml'), yaml(name, monitoring));
  const store = await SqliteOnlineStore.open(join(repoDir, '.strata', 'online.sqlite'));
  try {
    await writeFile(join(repoDir, 'tx.csv'), eventsCsv(1, 100, 0));
    await materialize(await FeatureRepo.load(repoDir), store, { start: START, end: END, runId: 'ref' });
    await writeFile(join(repoDir, 'tx.csv'), shifted ? eventsCsv(2, 115, 0.3) : eventsCsv(2, 100, 0));
    await materialize(await FeatureRepo.load(repoDir), store, { start: START, end: END, runId: 'now' });
  } finally {
    await store.close();
  }
  return repoDir;
}

interface DriftJson {
  drifted: string[];
  drift: {
    view: string;
    status: string;
    run: string;
    reference: string;
    referenceSource: string;
    features: { feature: string; breached: boolean; breaches: string[]; scores: { psi: number } }[];
  }[];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-monitor-drift-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('drift in strata monitor and /metrics', () => {
  it('a shifted run: exit 4 naming the features; a resample: exit 0', async () => {
    const [hot, calm] = await Promise.all([twoRuns('hot', true), twoRuns('calm', false)]);
    const [h, c] = await Promise.all([
      strata(['monitor', hot, '--reference', 'ref', '--json']),
      strata(['monitor', calm, '--reference', 'ref']),
    ]);
    expect(h.code, h.stderr).toBe(4);
    const out = JSON.parse(h.stdout) as DriftJson;
    expect(out.drifted.sort()).toEqual(['tx_latest:amount', 'tx_latest:category']);
    const [v] = out.drift;
    expect([v.view, v.status, v.run, v.reference, v.referenceSource]).toEqual([
      'tx_latest',
      'drifted',
      'now',
      'ref',
      'option',
    ]);
    const amount = v.features.find((f) => f.feature === 'amount')!;
    expect(amount.breaches).toContain('psi');
    expect(amount.scores.psi).toBeGreaterThan(0.25);

    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^view\s+feature\s+psi\s+js\s+mean_shift\s+mmd2\s+status\s+run\s+reference/m);
    expect(c.stdout).toMatch(/^tx_latest\s+amount\s+\d\.\d{3}\s+\d\.\d{3}\s+-\s+-\s+ok\s+now\s+ref \(option\)/m);
    expect(c.stderr).not.toContain('drift');

    // /metrics: scores and breach flags per feature (the reference declared in the repo this time)
    await writeFile(join(hot, 'strata.yaml'), yaml('hot', '    monitoring:\n      reference: ref\n'));
    const repo = await FeatureRepo.load(hot);
    await using store = await SqliteOnlineStore.open(join(hot, '.strata', 'online.sqlite'));
    await using server = await createFeatureServer(repo, store);
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    const [status] = await viewDriftStatus(repo);
    const psi = status.features.find((f) => f.feature === 'amount')!.scores.psi!;
    expect(text).toContain('# TYPE strata_feature_drift gauge');
    expect(text).toContain(`strata_feature_drift{view="tx_latest",feature="amount",metric="psi"} ${psi}`);
    expect(text).toMatch(/^strata_feature_drift\{view="tx_latest",feature="category",metric="js"\} \d/m);
    expect(text).toContain('strata_feature_drift_breached{view="tx_latest",feature="amount"} 1');
    expect(text).toContain('strata_feature_drift_breached{view="tx_latest",feature="category"} 1');
    expect(text).not.toContain('metric="mmd2"');

    // the monitoring page's data: the latest run's histograms over the reference's, drift flagged
    const page = await monitorReport(storeMonitorSource(repo, store, { features: () => driftFeatureMonitors(repo) }));
    const f = page.features.find((x) => x.feature === 'amount')!;
    expect([f.view, f.count, f.referenceCount, f.referenceName, f.drifted]).toEqual([
      'tx_latest',
      USERS,
      USERS,
      'ref',
      true,
    ]);
    expect(f.drift!.psi).toBe(psi);
    expect(f.thresholds).toEqual({ psi: 0.25, js: 0.1, meanShift: 0.1, mmd2: 0.1 });

    // the same page on the feature server, over HTTP: /monitor → /monitor/ (the page), its script and its data
    const moved = await fetch(`${server.url}/monitor`, { redirect: 'manual' });
    expect([moved.status, moved.headers.get('location')]).toEqual([302, '/monitor/']);
    const html = await fetch(`${server.url}/monitor/`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain('monitor.js');
    expect((await fetch(`${server.url}/monitor/monitor.js`)).status).toBe(200);
    const served = (await (await fetch(`${server.url}/monitor/api/monitor`)).json()) as MonitorResponse;
    expect(served.views.map((v) => v.view)).toEqual(['tx_latest']);
    expect(served.features.find((x) => x.feature === 'amount')).toMatchObject({ referenceName: 'ref', drifted: true });
    // behind the server's bearer token like every other route but /health
    await using locked = await createFeatureServer(repo, store, { token: 'secret' });
    expect((await fetch(`${locked.url}/monitor/api/monitor`)).status).toBe(401);
    const authorized = await fetch(`${locked.url}/monitor/api/monitor`, {
      headers: { authorization: 'Bearer secret' },
    });
    expect(authorized.status).toBe(200);

    // the declared reference is the default; the CLI names the features on stderr
    const d = await strata(['monitor', hot]);
    expect(d.code, d.stderr).toBe(4);
    expect(d.stderr).toContain('drift above its limit: tx_latest:amount');
    expect(d.stdout).toMatch(/^tx_latest\s+amount\s.*drifted \(psi.*now\s+ref \(declared\)/m);
  }, 60_000);

  it('the current run is the latest other than the reference; no reference: nothing checked; an unknown --reference is NOT_FOUND; a bad declared one is invalid', async () => {
    const repoDir = join(dir, 'hot');
    const repo = await FeatureRepo.load(repoDir); // declares reference: ref (previous test)
    // the current run is the latest other than the reference (as repo.drift)
    expect((await viewDriftStatus(repo, { reference: 'now' }))[0]).toMatchObject({ run: 'ref', reference: 'now' });
    await writeFile(join(repoDir, 'strata.yaml'), yaml('hot'));
    const plain = await FeatureRepo.load(repoDir);
    expect((await viewDriftStatus(plain))[0]).toMatchObject({ status: 'no_reference', reference: null });
    const alone = await driftFeatureMonitors(plain); // no reference: the latest run's histograms alone
    expect(alone.map((m) => [m.feature, m.reference, m.current.summary().count])).toEqual([
      ['amount', undefined, USERS],
      ['category', undefined, USERS],
    ]);
    await expect(viewDriftStatus(plain, { reference: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // drift reads the reference and the newest runs only: an older run's statistics are not parsed
    // (its body is cut short here), while listing every run still reads them all
    const old = join(repoDir, '.strata', 'stats', 'tx_latest', 'old.json');
    await writeFile(
      old,
      '{"format":1,"view":"tx_latest","runId":"old","kind":"materialize","time":"2020-01-01T00:00:00.000Z","rows":1,"features":{"amount":',
    );
    expect((await viewDriftStatus(repo))[0]).toMatchObject({ status: 'drifted', run: 'now', reference: 'ref' });
    expect((await plain.statistics('tx_latest', { limit: 2 })).map((r) => r.runId)).toEqual(['now', 'ref']);
    await expect(plain.statistics('tx_latest')).rejects.toMatchObject({ code: 'CORRUPT' });
    await rm(old);
    // a corrupt run file: the view is reported unreadable, the rest of monitoring goes on
    await writeFile(join(repoDir, '.strata', 'stats', 'tx_latest', 'bad.json'), '{');
    expect((await viewDriftStatus(plain))[0]).toMatchObject({ status: 'unreadable' });
    await writeFile(join(repoDir, 'strata.yaml'), yaml('hot', '    monitoring:\n      reference: ../x\n'));
    await expect(FeatureRepo.load(repoDir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
