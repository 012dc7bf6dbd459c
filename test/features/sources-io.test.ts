/**
 * Source formats (Parquet, JSONL, Arrow IPC, pluggable loaders), entity-row inputs (Arrow, objects,
 * Parquet, DataFrame-like) and outputs (Arrow, objects, Parquet, danfo) all agree.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import type * as A from 'apache-arrow';
import { tableFromRecords } from '../../src/features/engine/build.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureView,
  defineSource,
  registerSourceLoader,
  type SourceDef,
} from '../../src/features/index.js';
import { readParquetFile, writeParquetFile } from '../../src/features/sources/index.js';
import { eventsTable, rowsTable } from './_fixtures.js';
import { generate } from './_oracle.js';
import { cleanup, tempDir } from './_repo.js';

afterAll(cleanup);

const { events, rows } = generate({ seed: 41, events: 300, rows: 80, entities: 12 });
const table = eventsTable(events);
const FEATURES = ['plain:v', 'plain:s', 'aggs:v_sum_1h', 'aggs:rows_count_2h', 'aggs:s_last_n_1d'];

async function repoOver(source: SourceDef, dir?: string) {
  return FeatureRepo.fromDefinitions(
    [
      defineEntity({ name: 'ent', joinKeys: ['k'] }),
      defineSource(source),
      defineFeatureView({ name: 'plain', entities: ['ent'], source: source.name, features: ['v', 's'], ttl: '3h' }),
      defineFeatureView({
        name: 'aggs',
        entities: ['ent'],
        source: source.name,
        aggregations: [
          { column: 'v', function: 'sum', window: '1h' },
          { function: 'count', window: '2h' },
          { column: 's', function: 'last_n', window: '1d', n: 2 },
        ],
      }),
    ],
    dir ? { dir } : {},
  );
}

const reference = async () =>
  (await repoOver({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr' }))
    .getHistoricalFeatures(rowsTable(rows), { features: FEATURES })
    .toArray();

describe('source formats', () => {
  it('Parquet, JSONL and Arrow IPC sources give the same training set as the in-memory table', async () => {
    const want = await reference();
    const dir = await tempDir();
    await writeParquetFile(table, join(dir, 'ev.parquet'));
    await writeFile(join(dir, 'ev.arrow'), tableToIPC(table, 'file'));
    await writeFile(
      join(dir, 'ev.jsonl'),
      events
        .map((e) =>
          JSON.stringify({
            k: e.k,
            event_timestamp: new Date(e.ts).toISOString(),
            cr: e.cr === null ? null : new Date(e.cr).toISOString(),
            v: e.v,
            s: e.s,
            rid: e.rid,
          }),
        )
        .join('\n') + '\n',
    );
    for (const [kind, path] of [
      ['parquet', 'ev.parquet'],
      ['arrow', 'ev.arrow'],
      ['jsonl', 'ev.jsonl'],
    ] as const) {
      const repo = await repoOver(
        {
          name: 'ev',
          kind,
          path,
          createdTimestampField: 'cr',
          schema: kind === 'jsonl' ? { v: 'float64' } : undefined,
        },
        dir,
      );
      const got = await repo.getHistoricalFeatures(rowsTable(rows), { features: FEATURES }).toArray();
      expect(got, kind).toEqual(want);
    }
  });

  it('pluggable loaders: a registered kind validates and loads; a loader can take over a built-in kind', async () => {
    const want = await reference();
    const off = registerSourceLoader('memory', (s) => (s.options?.name === 'events' ? table : undefined));
    try {
      const repo = await repoOver({
        name: 'ev',
        kind: 'memory',
        options: { name: 'events' },
        createdTimestampField: 'cr',
      });
      expect(await repo.getHistoricalFeatures(rowsTable(rows), { features: FEATURES }).toArray()).toEqual(want);
    } finally {
      off();
    }
    // a registered loader takes over a built-in kind (e.g. dataset URIs the built-in reader does not know)
    const offDs = registerSourceLoader('dataset', (s) => (s.path === 'hub://x/y' ? table : undefined));
    try {
      const repo = await repoOver({ name: 'ev', kind: 'dataset', path: 'hub://x/y', createdTimestampField: 'cr' });
      expect(await repo.getHistoricalFeatures(rowsTable(rows), { features: FEATURES }).toArray()).toEqual(want);
    } finally {
      offDs();
    }
    // a kind whose loader went away fails to load with UNSUPPORTED
    const offTmp = registerSourceLoader('scratch', () => table);
    const repo = await repoOver({ name: 'ev', kind: 'scratch' });
    offTmp();
    repo.refresh();
    await expect(
      repo.getHistoricalFeatures(rowsTable(rows), { features: ['plain:v'] }).toArray(),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('entities with several join keys', () => {
  it('give the same features as one combined key', async () => {
    const split = events
      .filter((e) => e.k !== null)
      .map((e) => ({
        a: Number(e.k) % 3,
        b: `b${Math.floor(Number(e.k) / 3)}`,
        event_timestamp: e.ts,
        cr: e.cr,
        v: e.v,
        s: e.s,
      }));
    const two = tableFromRecords(split, {
      dtypes: { a: 'int64', b: 'string', event_timestamp: 'timestamp', cr: 'timestamp', v: 'float64', s: 'string' },
    });
    const one = tableFromRecords(
      split.map((e) => ({ ...e, ab: `${e.a}|${e.b}` })),
      {
        dtypes: {
          a: 'int64',
          b: 'string',
          ab: 'string',
          event_timestamp: 'timestamp',
          cr: 'timestamp',
          v: 'float64',
          s: 'string',
        },
      },
    );
    const mk = (table: A.Table, keys: string[]) =>
      FeatureRepo.fromDefinitions([
        defineEntity({ name: 'ent', joinKeys: keys }),
        defineSource({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr' }),
        defineFeatureView({ name: 'plain', entities: ['ent'], source: 'ev', features: ['v', 's'], ttl: '3h' }),
        defineFeatureView({
          name: 'aggs',
          entities: ['ent'],
          source: 'ev',
          aggregations: [
            { column: 'v', function: 'sum', window: '2h' },
            { column: 's', function: 'last', window: 'lifetime' },
          ],
        }),
      ]);
    const lookups = rows.map((r) => ({
      a: Number(r.qk) % 3,
      b: `b${Math.floor(Number(r.qk) / 3)}`,
      event_timestamp: new Date(r.qts),
    }));
    const features = ['plain:v', 'plain:s', 'aggs:v_sum_2h', 'aggs:s_last_lifetime'];
    const got = await (await mk(two, ['a', 'b'])).getHistoricalFeatures(lookups, { features }).toArray();
    const want = await (
      await mk(one, ['ab'])
    )
      .getHistoricalFeatures(
        lookups.map((l) => ({ ...l, ab: `${l.a}|${l.b}` })),
        { features },
      )
      .toArray();
    expect(got).toEqual(want.map(({ ab: _ab, ...rest }) => rest));
    expect(got.some((r) => r.v !== null)).toBe(true);
  });
});

describe('entity rows in, training sets out', () => {
  it('accepts Arrow, objects, a Parquet path and DataFrame-like objects; writes Parquet and danfo', async () => {
    const want = await reference();
    const repo = await repoOver({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr' });
    const objects = rows.map((r) => ({ qid: r.qid, k: r.qk, event_timestamp: new Date(r.qts) }));
    const dir = await tempDir();
    await writeParquetFile(rowsTable(rows), join(dir, 'rows.parquet'));
    const columns = ['qid', 'k', 'event_timestamp'];
    const dfValues = { columns, values: rows.map((r) => [r.qid, r.qk, new Date(r.qts)]) };
    const dfJson = { toJSON: () => objects };
    for (const input of [objects, join(dir, 'rows.parquet'), dfValues, dfJson]) {
      const got = await repo.getHistoricalFeatures(input, { features: FEATURES }).toArray();
      expect(got).toEqual(want);
    }
    const job = repo.getHistoricalFeatures(rowsTable(rows), { features: FEATURES });
    await job.toParquet(join(dir, 'out.parquet'));
    const back = await readParquetFile(join(dir, 'out.parquet'));
    const backRows = back.toArray().map((r: { toJSON(): Record<string, unknown> }) => r.toJSON());
    expect(backRows.length).toBe(rows.length);
    expect(backRows.map((r) => r.v ?? null)).toEqual(want.map((r) => r.v));
    expect(
      backRows.map((r) => Array.from((r.s_last_n_1d as { toArray(): unknown[] } | null)?.toArray() ?? [])),
    ).toEqual(want.map((r) => r.s_last_n_1d));
    class FakeFrame {
      constructor(readonly data: Record<string, unknown>[]) {}
    }
    expect((await job.toDanfo(FakeFrame)).data).toEqual(want);
  });

  it('names problems: unknown refs, missing columns, key type mismatch, name clashes, abort', async () => {
    const repo = await repoOver({ name: 'ev', kind: 'table', table, createdTimestampField: 'cr' });
    expect(() => repo.getHistoricalFeatures([], { features: ['plain:nope'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => repo.getHistoricalFeatures([], { features: ['nope:v'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => repo.getHistoricalFeatures([], { features: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => repo.getHistoricalFeatures([], { featureService: 'nope' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    await expect(repo.getHistoricalFeatures([{ k: 1 }], { features: ['plain:v'] }).toArray()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { column: 'event_timestamp' },
    });
    await expect(
      repo.getHistoricalFeatures([{ kk: 1, event_timestamp: new Date() }], { features: ['plain:v'] }).toArray(),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: 'k' } });
    await expect(
      repo.getHistoricalFeatures([{ k: 'one', event_timestamp: new Date() }], { features: ['plain:v'] }).toArray(),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: 'k' } });
    const two = await FeatureRepo.fromDefinitions([
      defineEntity({ name: 'ent', joinKeys: ['k'] }),
      defineSource({ name: 'ev', kind: 'table', table }),
      defineFeatureView({ name: 'a', entities: ['ent'], source: 'ev', features: ['v'] }),
      defineFeatureView({ name: 'b', entities: ['ent'], source: 'ev', features: ['v'] }),
    ]);
    expect(() => two.getHistoricalFeatures([], { features: ['a:v', 'b:v'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const full = await two
      .getHistoricalFeatures([{ k: events[0].k, event_timestamp: new Date(events[0].ts) }], {
        features: ['a:v', 'b:v'],
        fullFeatureNames: true,
      })
      .toArray();
    expect(Object.keys(full[0])).toEqual(['k', 'event_timestamp', 'a__v', 'b__v']);
    await expect(
      repo.getHistoricalFeatures([{ k: 1, event_timestamp: new Date(), v: 0 }], { features: ['plain:v'] }).toArray(),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: 'v' } });
    const ac = new AbortController();
    ac.abort();
    await expect(
      repo.getHistoricalFeatures(rowsTable(rows), { features: FEATURES, signal: ac.signal }).toArray(),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    const progress: string[] = [];
    await repo
      .getHistoricalFeatures(rowsTable(rows), { features: FEATURES, onProgress: (p) => progress.push(p.phase) })
      .toArray();
    expect(progress).toContain('views');
  });
});
