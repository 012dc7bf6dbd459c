/**
 * Served-feature logging and online/offline consistency over the real HTTP server: a YAML repo with
 * `logging:` in strata.yaml, materialized into SQLite; logged answers are a Strata dataset (ds.sql),
 * and `checkConsistency` / `strata consistency` find 0 mismatches, then exactly the corrupted share.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { FeatureRepo } from '../../src/features/index.js';
import {
  checkConsistency,
  FeatureLogger,
  getOnlineFeatures,
  materialize,
  SqliteOnlineStore,
} from '../../src/online/index.js';
import { createFeatureServer, type FeatureServer } from '../../src/serve/index.js';
import { runCli } from '../../src/cli/run.js';
import { startServer, strata } from '../cli/run-cli.js';

const N = 50;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const FEATURES = ['user_stats:score', 'user_stats:clicks', 'user_stats:country', 'user_stats:emb'];

function jsonl(): string {
  const lines: string[] = [];
  for (let u = 1; u <= N; u++) {
    // an older event, then the latest one (the value served and the value as of any later time)
    const t = (ms: number) => new Date(ms).toISOString();
    lines.push(
      JSON.stringify({
        user_id: u,
        event_timestamp: t(T0 + u * 1000),
        score: u / 3,
        clicks: u,
        country: 'old',
        emb: [0, 0],
      }),
    );
    lines.push(
      JSON.stringify({
        user_id: u,
        event_timestamp: t(T0 + 3_600_000 + u * 1000),
        score: u * 1.25 + 0.1,
        clicks: u * 10,
        country: `c${u % 3}`,
        emb: [u, 0.5],
      }),
    );
  }
  return lines.join('\n') + '\n';
}

const FEATURES_YAML = `entities:
  - name: user
    join_keys: [user_id]
    value_type: int64
sources:
  - name: events
    kind: jsonl
    path: data/events.jsonl
    timestamp_field: event_timestamp
feature_views:
  - name: user_stats
    entities: [user]
    source: events
    features: [score, clicks, country, emb]
`;

interface GetResponse {
  results: { values: unknown[]; statuses: string[] }[];
}

async function get(server: FeatureServer, ids: number[], requestId?: string): Promise<GetResponse> {
  const res = await fetch(server.url + '/get-online-features', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify({ features: FEATURES, entities: { user_id: ids } }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as GetResponse;
}

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('served-feature logging', () => {
  let dir: string;
  let repo: FeatureRepo;
  let store: SqliteOnlineStore;
  let server: FeatureServer;
  let logUri: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-featlog-'));
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data/events.jsonl'), jsonl());
    await writeFile(
      join(dir, 'strata.yaml'),
      'project: featlog\nlogging:\n  dataset: logs/served.strata\n  sample_rate: 1\n  flush_interval_ms: 50\n',
    );
    await writeFile(join(dir, 'features.yaml'), FEATURES_YAML);
    repo = await FeatureRepo.load(dir);
    logUri = join(dir, 'logs/served.strata');
    expect(repo.logging).toEqual({ dataset: logUri, sampleRate: 1, flushIntervalMs: 50 });
    store = await SqliteOnlineStore.open(join(dir, 'online.sqlite'));
    await materialize(repo, store, { start: new Date(T0 - 86_400_000), end: new Date(T0 + 86_400_000) });
    server = await createFeatureServer(repo, store, { token: '' });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    await repo?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs every answer of a sample rate 1 server as rows of a dataset, queryable with SQL', async () => {
    expect(server.featureLog?.sampleRate).toBe(1);
    for (let r = 0; r < 5; r++) await get(server, ids(r * 10 + 1, r * 10 + 10), `req-${r}`);
    await get(server, [9999], 'req-missing');
    await server.featureLog!.flush();
    expect(server.featureLog!.stats).toMatchObject({ requests: 6, rowsWritten: 51 * 4, flushErrors: 0 });
    await using ds = await Dataset.open(logUri);
    const t = await ds.sql(
      "SELECT feature, count(*) AS n, count(DISTINCT request_id) AS requests, sum(CASE WHEN status = 'PRESENT' THEN 1 ELSE 0 END) AS present FROM ds GROUP BY feature ORDER BY feature",
    );
    type Row = { toJSON(): Record<string, unknown> };
    expect((t.toArray() as Row[]).map((r) => ({ ...r.toJSON() }))).toEqual(
      [...FEATURES].sort().map((feature) => ({ feature, n: 51n, requests: 6n, present: 50n })),
    );
    const one = await ds.sql(
      "SELECT request_id, row, entity, value, value_number, event_time_ms FROM ds WHERE feature = 'user_stats:score' AND request_id = 'req-1' AND row = 2",
    );
    expect((one.toArray() as Row[])[0].toJSON()).toMatchObject({
      request_id: 'req-1',
      row: 2,
      entity: '{"user_id":13}',
      value: String(13 * 1.25 + 0.1),
      value_number: 13 * 1.25 + 0.1,
      event_time_ms: BigInt(T0 + 3_600_000 + 13_000),
    });
    const missing = (await ds.filter("request_id = 'req-missing'").toArray()) as { status: string; value: unknown }[];
    expect(missing.map((m) => [m.status, m.value])).toEqual(FEATURES.map(() => ['NOT_FOUND', null]));
  });

  it('gives training rows: the logged entities at their request times, back through getHistoricalFeatures', async () => {
    await using ds = await Dataset.open(logUri);
    const rows = await ds.sql(
      "SELECT DISTINCT request_id, row, CAST(json_extract(entity, '$.user_id') AS BIGINT) AS user_id, to_timestamp(request_time_ms / 1000) AS event_timestamp FROM ds WHERE status = 'PRESENT' ORDER BY request_id, row",
    );
    expect(rows.numRows).toBe(50);
    const training = await repo.getHistoricalFeatures(rows, { features: ['user_stats:score'] }).toArray();
    expect(training.map((r) => [r.user_id, r.score])).toEqual(ids(1, 50).map((u) => [u, u * 1.25 + 0.1]));
  });

  it('finds no mismatch for a correctly materialized repo, then exactly the corrupted share', async () => {
    const clean = await checkConsistency(repo, logUri);
    expect(clean.mismatches).toBe(0);
    expect(clean.requests).toBe(6);
    expect(clean.features.map((f) => [f.feature, f.compared, f.mismatches])).toEqual(
      [...FEATURES].sort().map((f) => [f, 51, 0]),
    );
    // streamed in batches that split requests and views: the same report
    expect(await checkConsistency(repo, logUri, { batchRows: 13 })).toEqual(clean);
    await expect(checkConsistency(repo, logUri, { batchRows: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });

    // corrupt the score of 7 of the 50 entities in the online store (same event time: the store keeps it)
    const corrupt = [3, 8, 15, 22, 31, 40, 47];
    await store.write(
      corrupt.map((u) => ({
        view: 'user_stats',
        entityKey: { user_id: u },
        values: {
          score: u * 1.25 + 0.1 + 0.5,
          clicks: BigInt(u * 10),
          country: `c${u % 3}`,
          emb: new Float32Array([u, 0.5]),
        },
        eventTimestampMs: T0 + 3_600_000 + u * 1000,
      })),
    );
    const since = Date.now();
    for (let r = 0; r < 5; r++) await get(server, ids(r * 10 + 1, r * 10 + 10));
    await server.featureLog!.flush();

    const report = await checkConsistency(repo, logUri, { sinceMs: since });
    const byFeature = Object.fromEntries(report.features.map((f) => [f.feature, f]));
    expect(report.requests).toBe(5);
    expect(byFeature['user_stats:score']).toMatchObject({ compared: 50, mismatches: 7, mismatchRate: 0.14 });
    expect(
      byFeature['user_stats:score'].examples.map((e) => e.entity.user_id).sort((a, b) => Number(a) - Number(b)),
    ).toEqual(corrupt.slice(0, 5));
    for (const f of ['user_stats:clicks', 'user_stats:country', 'user_stats:emb'])
      expect(byFeature[f]).toMatchObject({ compared: 50, mismatches: 0, mismatchRate: 0 });
    expect(await checkConsistency(repo, logUri, { sinceMs: since, batchRows: 7 })).toEqual(report);
    // a float tolerance wide enough to cover the corruption makes it consistent again
    expect((await checkConsistency(repo, logUri, { sinceMs: since, tolerance: 0.5 })).mismatches).toBe(0);

    // the whole log: 7 of 101 logged scores
    const cli = await strata(['consistency', dir, '--json']);
    expect(cli.code).toBe(1);
    const json = JSON.parse(cli.stdout) as {
      log: string;
      features: { feature: string; mismatches: number; compared: number }[];
    };
    expect(json.log).toBe(logUri);
    expect(json.features.find((f) => f.feature === 'user_stats:score')).toMatchObject({ compared: 101, mismatches: 7 });
    // in process (no second child): the table, and exit 0 under --max-rate
    let stdout = '';
    const sink = new Writable({ write: (c: Buffer, _e, done) => ((stdout += c.toString()), done()) });
    const code = await runCli(['consistency', dir, '--log', logUri, '--max-rate', '0.1'], {
      stdout: sink,
      stderr: sink,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/user_stats:score\s+101\s+7\s+6\.93%/);
  }, 60_000);

  it('samples: sampleRate 0 logs nothing; the library call logs through a logger', async () => {
    await using none = await FeatureLogger.open({ dataset: `memory://featlog-none-${Date.now()}`, sampleRate: 0 });
    await using half = await FeatureLogger.open({ dataset: `memory://featlog-half-${Date.now()}`, sampleRate: 0.5 });
    for (let i = 0; i < 2000; i++) {
      await getOnlineFeatures(repo, store, {
        features: ['user_stats:score'],
        entities: { user_id: [1] },
        logger: none,
      });
      await getOnlineFeatures(repo, store, {
        features: ['user_stats:score'],
        entities: { user_id: [1] },
        logger: half,
      });
    }
    expect(none.stats.requests).toBe(0);
    // binomial(2000, 0.5): 1000 ± 22 (sd); these bounds are 9 sd away
    expect(half.stats.requests).toBeGreaterThan(800);
    expect(half.stats.requests).toBeLessThan(1200);
    await half.flush();
    expect(half.stats.rowsWritten).toBe(half.stats.requests);
  });

  it('strata serve logs with the strata.yaml setting and appends what is buffered when it stops', async () => {
    const serve = await startServer(['serve', dir, '--port', '0']);
    const res = await fetch(serve.url + '/get-online-features', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'cli-1' },
      body: JSON.stringify({ features: ['user_stats:score'], entities: { user_id: [1, 2] } }),
    });
    expect(res.status).toBe(200);
    const stopped = await serve.stop();
    expect(stopped.stdout).toContain(`logging 100% of requests to ${logUri}`);
    await using ds = await Dataset.open(logUri);
    // its own (empty) SQLite store under .strata: both rows NOT_FOUND, logged on shutdown
    const rows = (await ds.filter("request_id = 'cli-1'").toArray()) as { row: number; status: string }[];
    expect(rows.map((r) => [r.row, r.status])).toEqual([
      [0, 'NOT_FOUND'],
      [1, 'NOT_FOUND'],
    ]);
  }, 60_000);

  it('rejects bad logging settings in strata.yaml, naming the field', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'strata-featlog-bad-'));
    try {
      await writeFile(join(bad, 'strata.yaml'), 'project: x\nlogging:\n  dataset: logs/x.strata\n  sample_rate: 2\n');
      await expect(FeatureRepo.load(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(FeatureRepo.load(bad)).rejects.toThrow(/logging\.sample_rate/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
