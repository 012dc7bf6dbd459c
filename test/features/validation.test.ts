/**
 * Validation: each kind of bad definition fails with INVALID_ARGUMENT naming the file, the line, the
 * field and a fix; nothing is applied when any definition is invalid.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureService,
  defineFeatureView,
  defineSource,
} from '../../src/features/index.js';
import { FEATURES_YAML, STRATA_YAML, TRIPS_CSV, cleanup, lineOf, writeRepo } from './_repo.js';

afterAll(cleanup);

describe('freshness SLO', () => {
  it('a valid freshness becomes freshnessMs on the view', async () => {
    const dir = await writeRepo({
      'strata.yaml': STRATA_YAML,
      'features/drivers.yaml': FEATURES_YAML.replace('ttl: 2h', 'ttl: 2h\n    freshness: 15m'),
      'data/trips.csv': TRIPS_CSV,
    });
    const repo = await FeatureRepo.load(dir);
    expect(repo.views.find((v) => v.freshnessMs !== undefined)?.freshnessMs).toBe(15 * 60_000);
  });
});

/** Replaces `from` (which must occur) in the good feature file and loads the repo. */
async function loadWith(from: string, to: string): Promise<{ err: unknown; text: string }> {
  expect(FEATURES_YAML).toContain(from);
  const text = FEATURES_YAML.replace(from, to);
  const dir = await writeRepo({
    'strata.yaml': STRATA_YAML,
    'features/drivers.yaml': text,
    'data/trips.csv': TRIPS_CSV,
  });
  const err = await FeatureRepo.load(dir).then(
    () => null,
    (e: unknown) => e,
  );
  return { err, text };
}

interface Case {
  kind: string;
  from: string;
  to: string;
  field: string;
  /** A substring of the offending line (for the expected line number). */
  at: string;
  hint?: RegExp;
}

const CASES: Case[] = [
  {
    kind: 'unknown aggregation function',
    from: 'function: sum, window: 2h',
    to: 'function: summ, window: 2h',
    field: 'aggregations[0].function',
    at: 'summ',
    hint: /did you mean sum/,
  },
  {
    kind: 'hop not dividing the window',
    from: 'window: 2h, hop: 1h',
    to: 'window: 2h, hop: 25m',
    field: 'aggregations[4].hop',
    at: 'hop: 25m',
    hint: /divides/,
  },
  {
    kind: 'missing timestamp column',
    from: 'timestamp_field: event_timestamp',
    to: 'timestamp_field: event_ts',
    field: 'timestampField',
    at: 'event_ts',
    hint: /event_timestamp/,
  },
  {
    kind: 'entity key type mismatch',
    from: 'value_type: int64',
    to: 'value_type: string',
    field: 'entities[0]',
    at: 'entities: [driver]',
    hint: /types agree/,
  },
  {
    kind: 'duplicate view name',
    from: '- name: driver_aggs',
    to: '- name: driver_latest',
    field: 'name',
    at: '- name: driver_latest\n'.trim(),
  },
  {
    kind: 'unknown entity',
    from: 'entities: [driver]\n    source: trips\n    tile',
    to: 'entities: [drivr]\n    source: trips\n    tile',
    field: 'entities[0]',
    at: '[drivr]',
    hint: /did you mean driver/,
  },
  {
    kind: 'unknown source',
    from: 'source: trips\n    ttl',
    to: 'source: tripz\n    ttl',
    field: 'source',
    at: 'tripz',
    hint: /did you mean trips/,
  },
  {
    kind: 'unknown view in a service',
    from: '"driver_latest:fare"',
    to: '"driver_lates:fare"',
    field: 'features[0]',
    at: 'driver_lates:',
    hint: /did you mean driver_latest/,
  },
  {
    kind: 'bad duration string',
    from: 'window: lifetime',
    to: 'window: 3 parsecs',
    field: 'aggregations[1].window',
    at: 'parsecs',
    hint: /duration/,
  },
  { kind: 'bad ttl', from: 'ttl: 2h', to: 'ttl: soonish', field: 'ttl', at: 'soonish', hint: /duration/ },
  {
    kind: 'bad freshness SLO',
    from: 'ttl: 2h',
    to: 'ttl: 2h\n    freshness: -5m',
    field: 'freshness',
    at: '-5m',
    hint: /15m/,
  },
  {
    kind: 'last_n without n',
    from: 'window: 1d, n: 2 }',
    to: 'window: 1d }',
    field: 'aggregations[3].n',
    at: 'last_n',
    hint: /n: 5/,
  },
  {
    kind: 'unknown field (typo)',
    from: 'tile: 30m',
    to: 'tiel: 30m',
    field: 'tiel',
    at: 'tiel',
    hint: /did you mean tile/,
  },
  {
    kind: 'where reading an unknown column',
    from: 'where: "city = \'paris\'"',
    to: 'where: "town = \'paris\'"',
    field: 'aggregations[2].where',
    at: 'town',
    hint: /columns/,
  },
  {
    kind: 'unparsable where',
    from: 'where: "city = \'paris\'"',
    to: 'where: "city = = \'paris\'"',
    field: 'aggregations[2].where',
    at: '= =',
    hint: /SQL/,
  },
  {
    kind: 'numeric function over strings',
    from: '{ column: fare, function: max',
    to: '{ column: city, function: max',
    field: 'aggregations[4].function',
    at: 'column: city, function: max',
    hint: /count_distinct/,
  },
  {
    kind: 'missing source file',
    from: 'path: data/trips.csv',
    to: 'path: data/nope.csv',
    field: 'path',
    at: 'nope.csv',
    hint: /path/,
  },
  {
    kind: 'tile not dividing a hop',
    from: 'tile: 30m',
    to: 'tile: 25m',
    field: 'tile',
    at: 'tile: 25m',
    hint: /divides every hop/,
  },
  {
    kind: 'unknown source kind',
    from: 'kind: csv',
    to: 'kind: cvs',
    field: 'kind',
    at: 'kind: cvs',
    hint: /did you mean csv/,
  },
  {
    kind: 'missing join key column',
    from: 'join_keys: [driver_id]',
    to: 'join_keys: [driver_key]',
    field: 'entities[0]',
    at: 'entities: [driver]',
    hint: /driver_id/,
  },
  {
    kind: 'feature column not in source',
    from: 'features: [fare, city]',
    to: 'features: [fare, cty]',
    field: 'features[1]',
    at: 'features: [fare, cty]',
    hint: /did you mean city/,
  },
  {
    kind: 'unknown feature in a service',
    from: '"driver_latest:fare"',
    to: '"driver_latest:fair"',
    field: 'features[0]',
    at: 'driver_latest:fair',
    hint: /did you mean fare/,
  },
];

describe('validation errors name file, line, field and fix', () => {
  for (const c of CASES) {
    it(c.kind, async () => {
      const { err, text } = await loadWith(c.from, c.to);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
      const d = (err as { details: Record<string, unknown> }).details;
      const errors = d.errors as { field: string; file?: string; line?: number; hint: string }[];
      const hit = errors.find((e) => e.field === c.field);
      expect(hit, `${c.kind}: fields reported: ${errors.map((e) => e.field).join(', ')}`).toBeDefined();
      expect(hit!.file).toBe('features/drivers.yaml');
      const at =
        c.kind === 'duplicate view name'
          ? text.split('\n').lastIndexOf('  - name: driver_latest') + 1
          : lineOf(text, c.at);
      expect(hit!.line).toBe(at);
      expect(hit!.hint.length).toBeGreaterThan(3);
      if (c.hint) expect(hit!.hint).toMatch(c.hint);
    });
  }

  it('reports every problem at once, and applies nothing', async () => {
    const text = FEATURES_YAML.replace('function: sum, window: 2h', 'function: summ, window: 2h').replace(
      'ttl: 2h',
      'ttl: -5m',
    );
    const dir = await writeRepo({
      'strata.yaml': STRATA_YAML,
      'features/drivers.yaml': text,
      'data/trips.csv': TRIPS_CSV,
    });
    const err = await FeatureRepo.load(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const errors = (err as { details: { errors: { field: string }[] } }).details.errors;
    expect(errors.map((e) => e.field).sort()).toEqual(['aggregations[0].function', 'ttl']);
    expect((err as Error).message).toMatch(/features\/drivers\.yaml:\d+/);
    await expect(access(join(dir, '.strata'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('YAML syntax errors name the line', async () => {
    const dir = await writeRepo({ 'strata.yaml': 'project: x\nentities:\n  - name: a\n   bad: [\n' });
    await expect(FeatureRepo.load(dir)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { file: 'strata.yaml' },
    });
  });

  it('TypeScript definitions report the file and line of the define… call', async () => {
    const err = await FeatureRepo.fromDefinitions([
      defineEntity({ name: 'driver', joinKeys: ['driver_id'] }),
      defineSource({
        name: 'p',
        kind: 'push',
        schema: { driver_id: 'int64', event_timestamp: 'timestamp', fare: 'float64' },
      }),
      defineFeatureView({
        name: 'v',
        entities: ['driver'],
        source: 'p',
        aggregations: [{ column: 'fare', function: 'last_n', window: '1h' }],
      }),
      defineFeatureService({ name: 's', features: ['v'] }),
    ]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'aggregations[0].n' } });
    const d = (err as { details: { file?: string; line?: number } }).details;
    expect(d.file).toMatch(/validation\.test\.ts$/);
    expect(d.line).toBeGreaterThan(0);
  });

  it('a push source needs a schema; a view needs entities', async () => {
    const err = await FeatureRepo.fromDefinitions({
      entities: [{ name: 'u' }],
      sources: [{ name: 'p', kind: 'push' }],
      views: [{ name: 'v', entities: [], source: 'p' }],
    }).catch((e: unknown) => e);
    const fields = (err as { details: { errors: { field: string }[] } }).details.errors.map((e) => e.field);
    expect(fields).toContain('schema');
    expect(fields).toContain('source');
  });

  it('engine options: a bad strategy or count is INVALID_ARGUMENT naming the option; good ones load', async () => {
    const defs = [
      defineEntity({ name: 'u', joinKeys: ['k'] }),
      defineSource({ name: 'p', kind: 'push', schema: { k: 'int64', event_timestamp: 'timestamp' } }),
    ];
    for (const [engine, field] of [
      [{ pairStrategy: 'pairs' }, 'engine.pairStrategy'],
      [{ tileStrategy: 'lazy' }, 'engine.tileStrategy'],
      [{ pruneEveryEvents: 0 }, 'engine.pruneEveryEvents'],
      [{ pruneEveryEvents: 1.5 }, 'engine.pruneEveryEvents'],
      [{ parallelMinEvents: -1 }, 'engine.parallelMinEvents'],
      [{ parallelMinEvents: Number.NaN }, 'engine.parallelMinEvents'],
      [{ pruneEvery: 10 }, 'engine.pruneEvery'],
      [{ parallelMinEvents: '1' }, 'engine.parallelMinEvents'],
    ] as const) {
      await expect(FeatureRepo.fromDefinitions(defs, { engine: engine as never })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field },
      });
    }
    const dir = await writeRepo({
      'strata.yaml': STRATA_YAML,
      'features/drivers.yaml': FEATURES_YAML,
      'data/trips.csv': TRIPS_CSV,
    });
    await expect(FeatureRepo.load(dir, { engine: { tileStrategy: 'lazy' as never } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'engine.tileStrategy' },
    });
    const repo = await FeatureRepo.load(dir, {
      engine: { pairStrategy: 'index', tileStrategy: 'virtual', pruneEveryEvents: 10, parallelMinEvents: Infinity },
    });
    expect(repo.views.length).toBeGreaterThan(0);
  });
});
