/**
 * YAML repositories load into the same validated objects as TypeScript definitions and give
 * identical training sets; `apply()` keeps a versioned registry and refuses breaking changes.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureService,
  defineFeatureView,
  defineSource,
} from '../../src/features/index.js';
import { runCli } from '../../src/cli/run.js';
import { FEATURES_YAML, STRATA_YAML, TRIPS_CSV, cleanup, writeRepo } from './_repo.js';

afterAll(cleanup);

const ROWS = [1, 2, 3, 4].flatMap((d) =>
  [
    '2024-01-01T00:30:00Z',
    '2024-01-01T01:00:00Z',
    '2024-01-01T02:00:00Z',
    '2024-01-01T03:00:00Z',
    '2024-01-02T00:00:00Z',
  ].map((t, i) => ({
    driver_id: d,
    event_timestamp: new Date(t),
    label: d * 10 + i,
  })),
);

function tsDefinitions() {
  return [
    defineEntity({ name: 'driver', joinKeys: ['driver_id'], valueType: 'int64' }),
    defineSource({
      name: 'trips',
      kind: 'csv',
      path: 'data/trips.csv',
      timestampField: 'event_timestamp',
      createdTimestampField: 'created',
    }),
    defineFeatureView({
      name: 'driver_latest',
      entities: ['driver'],
      source: 'trips',
      ttl: '2h',
      features: ['fare', 'city'],
    }),
    defineFeatureView({
      name: 'driver_aggs',
      entities: ['driver'],
      source: 'trips',
      tile: '30m',
      aggregations: [
        { column: 'fare', function: 'sum', window: '2h' },
        { column: 'fare', function: 'mean', window: 'lifetime' },
        { function: 'count', window: '1h', where: "city = 'paris'", name: 'paris_trips_1h' },
        { column: 'city', function: 'last_n', window: '1d', n: 2 },
        { column: 'fare', function: 'max', window: '2h', hop: '1h' },
      ],
    }),
    defineFeatureService({ name: 'model_v1', features: ['driver_latest:fare', 'driver_aggs'] }),
  ];
}

describe('YAML and TypeScript definitions', () => {
  it('produce the same validated objects and identical training sets', async () => {
    const dir = await writeRepo({
      'strata.yaml': STRATA_YAML,
      'features/drivers.yaml': FEATURES_YAML,
      'data/trips.csv': TRIPS_CSV,
    });
    const fromYaml = await FeatureRepo.load(dir);
    const fromTs = await FeatureRepo.fromDefinitions(tsDefinitions(), { dir });
    expect(fromYaml.project).toBe('rides');
    expect(fromYaml.views).toEqual(fromTs.views);
    expect(fromYaml.entities).toEqual(fromTs.entities);
    expect(fromYaml.services).toEqual(fromTs.services);
    expect(fromYaml.sources).toEqual(fromTs.sources);
    const a = await fromYaml.getHistoricalFeatures(ROWS, { featureService: 'model_v1' }).toArray();
    const b = await fromTs.getHistoricalFeatures(ROWS, { featureService: 'model_v1' }).toArray();
    expect(a).toEqual(b);
    // spot-check the Feast rules on the hand-made data
    const at = (d: number, t: string) => a.find((r) => r.driver_id === d && r.event_timestamp === Date.parse(t))!;
    // two rows of driver 1 at 01:00; the later created timestamp wins
    expect(at(1, '2024-01-01T01:00:00Z').fare).toBe(21);
    // 01:30 row has a null fare: the row joins, the value is null
    expect(at(1, '2024-01-01T02:00:00Z').fare).toBeNull();
    // ttl 2h: driver 3's 02:00 event is gone by the next day
    expect(at(3, '2024-01-02T00:00:00Z').fare).toBeNull();
    expect(at(3, '2024-01-01T02:00:00Z').fare).toBe(100);
    expect(at(4, '2024-01-01T02:00:00Z').fare).toBeNull();
    // sliding 2h sum over (00:00, 02:00]: the 00:00 trip is outside, 20 + 21 inside, 01:30 is null
    expect(at(1, '2024-01-01T02:00:00Z').fare_sum_2h).toBe(41);
    expect(at(1, '2024-01-01T01:00:00Z').paris_trips_1h).toBe(0);
    expect(at(1, '2024-01-01T02:00:00Z').paris_trips_1h).toBe(1);
    expect(at(1, '2024-01-01T02:00:00Z').city_last_n_1d).toEqual(['berlin', 'paris']);
    expect(at(4, '2024-01-01T02:00:00Z').fare_sum_2h).toBeNull();
    expect(at(4, '2024-01-01T02:00:00Z').paris_trips_1h).toBe(0);
    expect(a.map((r) => r.label)).toEqual(ROWS.map((r) => r.label));
  });

  it('accepts maps keyed by name, camelCase keys and a features glob', async () => {
    const dir = await writeRepo({
      'strata.yaml': 'project: p\nfeatures: ["defs/*.yml"]\nentities:\n  driver: { joinKeys: [driver_id] }\n',
      'defs/a.yml': 'sources:\n  trips: { kind: csv, path: data/trips.csv, timestampField: event_timestamp }\n',
      'defs/b.yml': 'featureViews:\n  latest: { entities: [driver], source: trips, features: [fare] }\n',
      'ignored/c.yaml': 'this: is not loaded\n',
      'data/trips.csv': TRIPS_CSV,
    });
    const repo = await FeatureRepo.load(dir);
    expect(repo.views.map((v) => v.name)).toEqual(['latest']);
    expect(repo.views[0].entities).toEqual(['driver_id']);
    expect(repo.views[0].features).toEqual([{ name: 'fare', dtype: 'float64' }]);
  });

  it('reports an unknown top-level key with its line', async () => {
    const dir = await writeRepo({ 'strata.yaml': 'project: p\n\nentitees: []\n' });
    await expect(FeatureRepo.load(dir)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { file: 'strata.yaml', line: 3, field: 'entitees' },
    });
  });
});

describe('apply() and the registry', () => {
  async function repoWith(text: string, dir?: string) {
    const d = dir ?? (await writeRepo({ 'strata.yaml': STRATA_YAML, 'data/trips.csv': TRIPS_CSV }));
    await writeFile(join(d, 'features.yaml'), text);
    return { dir: d, repo: await FeatureRepo.load(d) };
  }

  it('writes versioned files, skips no-op applies, refuses breaking changes unless forced', async () => {
    const { dir, repo } = await repoWith(FEATURES_YAML);
    const first = await repo.apply();
    expect(first).toMatchObject({ version: 1, changed: true });
    expect(first.path).toBe(join(dir, '.strata', 'registry', '1.json'));
    const stored = JSON.parse(await readFile(first.path, 'utf8')) as { views: { name: string }[] };
    expect(stored.views.map((v) => v.name)).toEqual(['driver_aggs', 'driver_latest']);
    expect(await repo.apply()).toMatchObject({ version: 1, changed: false });

    // adding a feature is fine
    const added = FEATURES_YAML.replace(
      '      - { column: fare, function: max',
      '      - { column: fare, function: min, window: 1h }\n      - { column: fare, function: max',
    );
    const r2 = await (await repoWith(added, dir)).repo.apply();
    expect(r2).toMatchObject({ version: 2, changed: true });
    expect(r2.changes).toContain('view driver_aggs: aggregation fare_min_1h added');

    // changing a window (same feature name) breaks materialized data
    const broken = added.replace(
      '{ column: fare, function: sum, window: 2h }',
      '{ column: fare, function: sum, window: 3h, name: fare_sum_2h }',
    );
    const repo3 = (await repoWith(broken, dir)).repo;
    await expect(repo3.apply()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await readdir(join(dir, '.strata', 'registry'))).filter((f) => f.endsWith('.json')).sort()).toEqual([
      '1.json',
      '2.json',
    ]);
    const forced = await repo3.apply({ force: true });
    expect(forced).toMatchObject({ version: 3, changed: true });
    expect(forced.changes.some((c) => c.includes('fare_sum_2h.window'))).toBe(true);

    // changing a join key or the function is breaking too
    const rekeyed = broken.replace(
      '{ function: count, window: 1h, where: "city = \'paris\'", name: paris_trips_1h }',
      '{ function: count, window: 1h, where: "city = \'rome\'", name: paris_trips_1h }',
    );
    await expect((await repoWith(rekeyed, dir)).repo.apply()).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { changes: [expect.stringContaining('where')] },
    });
  });

  it('records on-demand views (contract, not code), diffs them, and `strata apply` lists them', async () => {
    const onDemand = (expr: string) => `
on_demand_views:
  - name: fare_ratio
    inputs: ["driver_latest:fare"]
    request_schema: { quote: float64 }
    description: fare vs the quoted price
    features:
      - { name: ratio, expr: "${expr}" }
`;
    const { dir, repo } = await repoWith(FEATURES_YAML + onDemand('fare / quote'));
    const first = await repo.apply();
    expect(first.changes).toContain('on-demand view fare_ratio added');
    const stored = JSON.parse(await readFile(first.path, 'utf8')) as { onDemandViews: unknown[] };
    expect(stored.onDemandViews).toEqual([
      {
        name: 'fare_ratio',
        inputs: ['driver_latest:fare'],
        requestSchema: { quote: 'float64' },
        features: [{ name: 'ratio', dtype: 'float64', expr: 'fare / quote' }],
        description: 'fare vs the quoted price',
      },
    ]);
    expect(await repo.apply()).toMatchObject({ version: 1, changed: false });

    // an on-demand change is never breaking (nothing of it is materialized)
    const changed = await (await repoWith(FEATURES_YAML + onDemand('fare - quote'), dir)).repo.apply();
    expect(changed).toMatchObject({ version: 2, changed: true, changes: ['on-demand view fare_ratio changed'] });

    let out = '';
    const sink = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    expect(await runCli(['apply', dir], { stdout: sink, stderr: sink })).toBe(0);
    expect(out).toContain('1 on-demand views');
    expect(out).toMatch(
      /fare_ratio \(on-demand, reads driver_latest:fare, request\.quote\): ratio:float64 = fare - quote/,
    );
    out = '';
    expect(await runCli(['apply', dir, '--json'], { stdout: sink, stderr: sink })).toBe(0);
    expect((JSON.parse(out) as { onDemandViews: { name: string }[] }).onDemandViews.map((v) => v.name)).toEqual([
      'fare_ratio',
    ]);

    const removed = await (await repoWith(FEATURES_YAML, dir)).repo.apply();
    expect(removed).toMatchObject({ version: 3, changes: ['on-demand view fare_ratio removed'] });
    const last = JSON.parse(await readFile(removed.path, 'utf8')) as object;
    expect(last).not.toHaveProperty('onDemandViews');
  });

  it('concurrent applies get distinct versions', async () => {
    const { dir } = await repoWith(FEATURES_YAML);
    const a = await FeatureRepo.load(dir);
    const withMin = FEATURES_YAML.replace('tile: 30m\n', 'tile: 30m\n').replace(
      'features: [fare, city]',
      'features: [fare, city, created]',
    );
    await writeFile(join(dir, 'features.yaml'), withMin);
    const b = await FeatureRepo.load(dir);
    const [ra, rb] = await Promise.all([a.apply(), b.apply()]);
    expect(new Set([ra.version, rb.version]).size).toBe(2);
  });

  it('needs a directory', async () => {
    const repo = await FeatureRepo.fromDefinitions({ entities: [{ name: 'x' }] });
    await expect(repo.apply()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
