/**
 * On-demand views: one evaluator for serving and training sets. The property test builds random
 * repos (entities, embeddings, timestamps, missing rows) over many seeds, materializes them into a
 * real SQLite online store, and checks getOnlineFeatures and getHistoricalFeatures give identical
 * on-demand values; then request validation (400 naming the field over HTTP) and per-row errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FeatureRepo,
  defineEntity,
  defineFeatureView,
  defineOnDemandView,
  defineSource,
} from '../../src/features/index.js';
import { parseExpr, parseValueExpr } from '../../src/features/definitions/expr.js';
import { compileExpr } from '../../src/features/definitions/expr-filter.js';
import { compileValue } from '../../src/features/definitions/expr-value.js';
import { getOnlineFeatures, materialize, SqliteOnlineStore } from '../../src/online/index.js';
import { createFeatureServer } from '../../src/serve/index.js';
import { prng } from '../../src/random.js';

const T = Date.UTC(2024, 5, 1);

const rng = prng;

function embeddings(rand: () => number, n: number, dim: number): A.Vector {
  const values = Float32Array.from({ length: n * dim }, () => rand() * 2 - 1);
  const type = new A.FixedSizeList(dim, new A.Field('item', new A.Float32(), true));
  const child = A.makeData({ type: new A.Float32(), length: n * dim, data: values });
  return A.makeVector(A.makeData({ type, length: n, nullCount: 0, child }));
}

async function randomRepo(seed: number, dim: number) {
  const rand = rng(seed);
  const nUsers = 3 + Math.floor(rand() * 12);
  const nItems = 3 + Math.floor(rand() * 12);
  const userRows = nUsers * 2;
  const users = new A.Table({
    uid: A.vectorFromArray(
      Array.from({ length: userRows }, (_, i) => i % nUsers),
      new A.Int32(),
    ),
    event_timestamp: A.vectorFromArray(
      Array.from({ length: userRows }, () => T - 1 - Math.floor(rand() * 86_400_000)),
      new A.TimestampMillisecond(),
    ),
    user_emb: embeddings(rand, userRows, dim),
    last_seen: A.vectorFromArray(
      Array.from({ length: userRows }, () => T - Math.floor(rand() * 3_600_000)),
      new A.TimestampMillisecond(),
    ),
  });
  const items = new A.Table({
    iid: A.vectorFromArray(
      Array.from({ length: nItems }, (_, i) => i),
      new A.Int32(),
    ),
    event_timestamp: A.vectorFromArray(
      Array.from({ length: nItems }, () => T - 1 - Math.floor(rand() * 86_400_000)),
      new A.TimestampMillisecond(),
    ),
    item_emb: embeddings(rand, nItems, dim),
  });
  const repo = await FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['uid'] }),
    defineEntity({ name: 'item', joinKeys: ['iid'] }),
    defineSource({ name: 'users_src', kind: 'table', table: users }),
    defineSource({ name: 'items_src', kind: 'table', table: items }),
    defineFeatureView({ name: 'users', entities: ['user'], source: 'users_src', features: ['user_emb', 'last_seen'] }),
    defineFeatureView({ name: 'items', entities: ['item'], source: 'items_src', features: ['item_emb'] }),
    defineOnDemandView({
      name: 'match',
      inputs: ['users:user_emb', 'items:item_emb', 'users:last_seen'],
      requestSchema: { query: `float32[${dim}]`, boost: 'float64' },
      features: [
        { name: 'sim', expr: 'cosine(user_emb, item_emb)' },
        { name: 'dist', expr: 'l2(user_emb, item_emb)', dtype: 'float32' },
        { name: 'score', expr: 'dot(query, item_emb) * boost + 1' },
        { name: 'age_ms', expr: 'now - last_seen' },
      ],
    }),
    defineOnDemandView({
      name: 'ts_fn',
      inputs: ['users:user_emb'],
      requestSchema: { boost: 'float64' },
      features: [{ name: 'first_boosted', dtype: 'float64' }],
      transform: (row) => {
        const e = row.user_emb as Float32Array | null;
        if (!e) return {};
        return { first_boosted: e[0] * (row.boost as number) };
      },
    }),
  ]);
  // requests: some unknown ids (missing inputs), random request data
  const n = 1 + Math.floor(rand() * 20);
  const uid = Array.from({ length: n }, () => Math.floor(rand() * (nUsers + 2)));
  const iid = Array.from({ length: n }, () => Math.floor(rand() * (nItems + 2)));
  const query = Array.from({ length: n }, () => Array.from({ length: dim }, () => rand() * 2 - 1));
  const boost = Array.from({ length: n }, () => (rand() < 0.1 ? null : rand() * 10));
  return { repo, uid, iid, query, boost, n };
}

const FEATURES = ['match:sim', 'match:dist', 'match:score', 'match:age_ms', 'ts_fn:first_boosted'];
const NAMES = ['sim', 'dist', 'score', 'age_ms', 'first_boosted'];

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-ondemand-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the expression language', () => {
  const value = (src: string, row: Record<string, unknown> = {}, now = 0) =>
    compileValue(parseValueExpr(src))((c) => row[c], now);
  const filter = (src: string, row: Record<string, unknown>) => compileExpr(parseExpr(src))((c) => row[c]);
  it('evaluates arithmetic, functions and now with null propagation', () => {
    expect(value('1 + 2 * 3 - -4 / 2')).toBe(9);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('now - last_seen', { last_seen: 400 }, 1000)).toBe(600);
    expect(value('now - last_seen', { last_seen: null }, 1000)).toBe(null);
    expect(value('cosine(a, b)', { a: [1, 0], b: Float32Array.of(0, 2) })).toBe(0);
    expect(value('dot(a, b) + l2(a, b)', { a: [3, 0], b: [0, 4] })).toBe(5);
    expect(value('coalesce(x, 7)', { x: null })).toBe(7);
    expect(() => value('cosine(a, b)', { a: [1], b: [1, 2] })).toThrow(/width 1 and 2/);
    expect(() => parseValueExpr('cosine(a')).toThrow();
    expect(() => compileValue(parseValueExpr('cosin(a, b)'))).toThrow(/unknown function cosin/);
  });
  it('keeps where filters working, with arithmetic', () => {
    expect(filter("status = 'ok' AND amount > 10", { status: 'ok', amount: 11 })).toBe(1);
    expect(filter('amount * 2 > 10', { amount: 6 })).toBe(1);
    expect(filter('(amount + 1) > 10', { amount: 6 })).toBe(0);
    expect(filter('(amount > 10 OR amount < 0) AND NOT flag', { amount: -1, flag: false })).toBe(1);
    expect(filter('amount - 1 IS NULL', { amount: null })).toBe(1);
  });
});

describe('on-demand views', () => {
  it('give identical values online and in training sets (40 random repos)', async () => {
    const seen: Record<string, number> = {};
    for (let seed = 1; seed <= 40; seed++) {
      const dim = seed % 5 === 0 ? 128 : 1 + (seed % 9);
      const { repo, uid, iid, query, boost, n } = await randomRepo(seed, dim);
      const store = await SqliteOnlineStore.open(join(dir, `p${seed}`, 'online.sqlite'));
      try {
        await materialize(repo, store, { start: new Date(T - 2 * 86_400_000), end: new Date(T) });
        const online = await getOnlineFeatures(repo, store, {
          features: FEATURES,
          entities: { uid, iid },
          requestData: { query, boost },
          nowMs: T,
        });
        const training = await repo
          .getHistoricalFeatures(
            uid.map((u, i) => ({
              uid: u,
              iid: iid[i],
              event_timestamp: new Date(T),
              query: query[i],
              boost: boost[i],
            })),
            { features: FEATURES },
          )
          .toArray();
        expect(training).toHaveLength(n);
        for (const name of NAMES) {
          const col = online.column(name);
          const offline = training.map((r) => (r[name] === undefined ? null : r[name]));
          expect(col.values, `seed ${seed} feature ${name}`).toEqual(offline);
          // a row with an unknown user or item has a missing input: NOT_FOUND, not an error
          col.statuses.forEach((s, i) => expect(s === 'PRESENT').toBe(offline[i] !== null));
        }
        for (const s of online.column('sim').statuses) seen[s] = (seen[s] ?? 0) + 1;
      } finally {
        await store.close();
        await repo.close();
      }
    }
    // the seeds exercise both computed values and missing inputs
    expect(seen.PRESENT).toBeGreaterThan(50);
    expect(seen.NOT_FOUND).toBeGreaterThan(10);
  }, 60_000);

  it('rejects bad request data naming the field (INVALID_ARGUMENT; HTTP 400) and reports per-row errors', async () => {
    const { repo } = await randomRepo(7, 4);
    const store = await SqliteOnlineStore.open(join(dir, 'bad', 'online.sqlite'));
    await materialize(repo, store, { start: new Date(T - 2 * 86_400_000), end: new Date(T) });
    const server = await createFeatureServer(repo, store, { token: '' });
    try {
      const base = { features: ['match:score'], entities: { uid: [0, 1], iid: [0, 1] } };
      await expect(
        getOnlineFeatures(repo, store, {
          ...base,
          requestData: {
            query: [
              [1, 2, 3, 4],
              [1, 2, 3],
            ],
            boost: [1, 2],
          },
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'request_data.query', row: 1 } });
      await expect(
        getOnlineFeatures(repo, store, {
          ...base,
          requestData: {
            query: [
              [1, 2, 3, 4],
              [1, 2, 3, 4],
            ],
          },
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'entities.boost' },
      });
      const post = async (body: unknown) => {
        const r = await fetch(`${server.url}/get-online-features`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      const bad = await post({
        ...base,
        request_data: {
          query: [
            [1, 2, 3, 4],
            [1, 2, 3, 4],
          ],
          boost: ['x', 1],
        },
      });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('request_data.boost');
      // Feast's convention: request fields next to the join keys
      const ok = await post({
        features: ['match:score', 'users:user_emb'],
        entities: {
          uid: [0, 99],
          iid: [0, 0],
          query: [
            [1, 0, 0, 0],
            [1, 0, 0, 0],
          ],
          boost: [2, 2],
        },
      });
      expect(ok.status).toBe(200);
      const body = ok.body as { metadata: { feature_names: string[] }; results: { statuses: string[] }[] };
      expect(body.metadata.feature_names).toEqual(['uid', 'iid', 'score', 'user_emb']);
      // score reads only the item: both rows present; user 99 is unknown
      expect(body.results[2].statuses).toEqual(['PRESENT', 'PRESENT']);
      expect(body.results[3].statuses).toEqual(['PRESENT', 'NOT_FOUND']);
      // a list where a join key belongs (allowed in entities for request fields) is a 400, not a 500
      const listKey = await post({ features: ['users:user_emb'], entities: { uid: [[1, 2]] } });
      expect(listKey.status).toBe(400);
      expect(JSON.stringify(listKey.body)).toContain('entity key uid');
    } finally {
      await server.close();
      await store.close();
      await repo.close();
    }
  });

  it('a failing row is INVALID with its error, the others are served', async () => {
    const table = new A.Table({
      uid: A.vectorFromArray([1, 2], new A.Int32()),
      event_timestamp: A.vectorFromArray([T - 10, T - 10], new A.TimestampMillisecond()),
      x: A.vectorFromArray([4, -1], new A.Float64()),
    });
    const repo = await FeatureRepo.fromDefinitions([
      defineEntity({ name: 'user', joinKeys: ['uid'] }),
      defineSource({ name: 's', kind: 'table', table }),
      defineFeatureView({ name: 'v', entities: ['user'], source: 's', features: ['x'] }),
      defineOnDemandView({
        name: 'od',
        inputs: ['v:x'],
        features: [{ name: 'root' }, { name: 'twice', dtype: 'int64' }],
        transform: ({ x }) => {
          if ((x as number) < 0) throw new Error(`negative x ${String(x)}`);
          return { root: Math.sqrt(x as number), twice: (x as number) * 2 };
        },
      }),
    ]);
    const store = await SqliteOnlineStore.open(join(dir, 'err', 'online.sqlite'));
    try {
      await materialize(repo, store, { start: new Date(T - 1000), end: new Date(T) });
      const res = await getOnlineFeatures(repo, store, {
        features: ['od:root', 'od:twice'],
        entities: { uid: [1, 2, 3] },
      });
      expect(res.column('root').values).toEqual([2, null, null]);
      expect(res.column('root').statuses).toEqual(['PRESENT', 'INVALID', 'NOT_FOUND']);
      expect(res.column('root').errors?.[1]).toContain('negative x -1');
      expect(res.column('twice').values).toEqual([8, null, null]);
      const rows = await repo
        .getHistoricalFeatures(
          [1, 2, 3].map((uid) => ({ uid, event_timestamp: new Date(T) })),
          { features: ['od:root'] },
        )
        .toArray();
      expect(rows.map((r) => r.root)).toEqual([2, null, null]);
    } finally {
      await store.close();
      await repo.close();
    }
  });

  it('validates definitions: unknown inputs and names, name clashes, functions in where', async () => {
    const table = new A.Table({
      uid: A.vectorFromArray([1], new A.Int32()),
      event_timestamp: A.vectorFromArray([T], new A.TimestampMillisecond()),
      x: A.vectorFromArray([1], new A.Float64()),
    });
    const base = [
      defineEntity({ name: 'user', joinKeys: ['uid'] }),
      defineSource({ name: 's', kind: 'table', table }),
      defineFeatureView({ name: 'v', entities: ['user'], source: 's', features: ['x'] }),
    ];
    const bad = async (def: Parameters<typeof defineOnDemandView>[0], field: string, message: RegExp) => {
      const err = await FeatureRepo.fromDefinitions([...base, defineOnDemandView(def)]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
      expect((err as Error).message).toMatch(message);
    };
    await bad({ name: 'od', inputs: ['v:y'], features: [{ name: 'a', expr: '1' }] }, 'inputs[0]', /v:y/);
    await bad({ name: 'od', inputs: ['v:x'], features: [{ name: 'a', expr: 'x + z' }] }, 'features[0].expr', /reads z/);
    await bad({ name: 'v', features: [{ name: 'a', expr: '1' }] }, 'name', /already a view/);
    await bad(
      { name: 'od', inputs: ['v:x'], requestSchema: { x: 'float64' }, features: [{ name: 'a', expr: 'x' }] },
      'requestSchema.x',
      /name of an input/,
    );
    await bad(
      { name: 'od', requestSchema: { q: 'vec' }, features: [{ name: 'a', expr: '1' }] },
      'requestSchema.q',
      /dtype/,
    );
    const where = await FeatureRepo.fromDefinitions([
      ...base.slice(0, 2),
      defineFeatureView({
        name: 'agg',
        entities: ['user'],
        source: 's',
        aggregations: [{ column: 'x', function: 'sum', window: '1h', where: 'abs(x) > 1' }],
      }),
    ]).catch((e: unknown) => e);
    expect((where as Error).message).toMatch(/functions \(abs\) belong in on-demand views/);
  });

  it('loads from YAML and names bad expressions with their line', async () => {
    const d = await mkdtemp(join(dir, 'yaml-'));
    await writeFile(join(d, 'strata.yaml'), 'project: od\n');
    await writeFile(
      join(d, 'defs.yaml'),
      [
        'entities: [{ name: user, join_keys: [uid] }]',
        'sources:',
        '  - { name: s, kind: push, schema: { uid: int64, event_timestamp: timestamp, emb: "float32[4]" } }',
        'feature_views:',
        '  - { name: v, entities: [user], source: s, features: [emb] }',
        'on_demand_views:',
        '  - name: od',
        '    inputs: ["v:emb"]',
        '    request_schema: { item_emb: "float32[4]" }',
        '    features:',
        '      - { name: sim, expr: "cosine(emb, item_emb)" }',
        '      - { name: bad, expr: "cosin(emb, item_emb)" }',
        '',
      ].join('\n'),
    );
    await expect(FeatureRepo.load(d)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'features[1].expr', line: 12 },
    });
  });
});
