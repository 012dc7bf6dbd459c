/** The HTTP feature server over real sockets: Feast wire format, limits, auth, errors, metrics, shutdown. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize, SqliteOnlineStore } from '../../src/online/index.js';
import { createFeatureServer, type FeatureServer } from '../../src/serve/index.js';
import { DAY_MS, FakeRepo, type FakeEvent } from '../online/fixtures/fake-repo.js';

const NOW = Date.now();

function ev(user_id: number, ts: number, values: Record<string, unknown>): FakeEvent {
  return {
    view: 'user_stats',
    entityKey: { user_id },
    values: { clicks: 1n, score: 0.5, country: 'DE', active: true, embedding: [1, 0, 0, 0], ...values },
    ts,
  };
}

/** The parts of the server's JSON responses these tests read (any one response has some of them). */
interface ResponseJson {
  metadata: { feature_names: string[] };
  results: {
    values: unknown[];
    statuses: string[];
    event_timestamps: string[];
    write_timestamps?: (string | null)[];
    distance?: number;
  }[];
  views: { view: string; rows: number }[];
  error: { code: string; message: string; field?: string; key?: string };
}

async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: ResponseJson; headers: Headers }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as ResponseJson, headers: res.headers };
}

describe('feature server', () => {
  let dir: string;
  let store: SqliteOnlineStore;
  let repo: FakeRepo;
  let server: FeatureServer;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-serve-'));
    store = await SqliteOnlineStore.open(join(dir, 'online.sqlite'));
    repo = new FakeRepo(
      [
        ev(1, NOW - 1000, { clicks: 12n, score: 0.25, embedding: [1, 2, 3, 4] }),
        ev(2, NOW - 1000, { score: null }),
        ev(3, NOW - 3 * DAY_MS, {}),
        { view: 'user_item', entityKey: { user_id: 1, item_id: 'a' }, values: { views: 9n }, ts: NOW - 10 },
      ],
      { pushSources: { user_events: 'user_stats' } },
    );
    await materialize(repo, store, { start: new Date(NOW - 10 * DAY_MS), end: new Date(NOW) });
    server = await createFeatureServer(repo, store, { bodyLimitBytes: 4096, maxEntitiesPerRequest: 50, token: '' });
    base = server.url;
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('binds loopback by default', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('POST /get-online-features answers in Feast’s column-per-feature layout, entity columns first', async () => {
    const r = await post(base, '/get-online-features', {
      features: ['user_stats:clicks', 'user_stats:score', 'user_stats:embedding'],
      entities: { user_id: [1, 2, 3, 4] },
    });
    expect(r.status).toBe(200);
    expect(r.json.metadata.feature_names).toEqual(['user_id', 'clicks', 'score', 'embedding']);
    const [ids, clicks, score, emb] = r.json.results;
    expect(ids).toEqual({
      values: [1, 2, 3, 4],
      statuses: Array(4).fill('PRESENT'),
      event_timestamps: Array(4).fill('1970-01-01T00:00:00Z'),
    });
    expect(clicks.values).toEqual([12, 1, null, null]);
    expect(clicks.statuses).toEqual(['PRESENT', 'PRESENT', 'OUTSIDE_MAX_AGE', 'NOT_FOUND']);
    expect(score.statuses).toEqual(['PRESENT', 'NULL_VALUE', 'OUTSIDE_MAX_AGE', 'NOT_FOUND']);
    expect(new Date(score.event_timestamps[0]).getTime()).toBe(NOW - 1000);
    expect(score.event_timestamps[3]).toBe('1970-01-01T00:00:00Z');
    expect(emb.values[0]).toEqual([1, 2, 3, 4]);
  });

  it('include_write_timestamps adds write_timestamps next to event_timestamps; without it the layout is Feast’s', async () => {
    const body = { features: ['user_stats:clicks', 'user_stats:score'], entities: { user_id: [1, 6, 4] } };
    const before = Date.now();
    const pushed = await post(base, '/push', {
      push_source_name: 'user_events',
      df: { user_id: [6], event_timestamp: [NOW], clicks: [3], score: [0.5] },
    });
    expect(pushed.status).toBe(200);
    const after = Date.now();
    const plain = await post(base, '/get-online-features', body);
    for (const r of plain.json.results) expect(r).not.toHaveProperty('write_timestamps');
    const r = await post(base, '/get-online-features', { ...body, include_write_timestamps: true });
    expect(r.status).toBe(200);
    const [ids, clicks, score] = r.json.results;
    expect(ids.write_timestamps).toEqual(Array(3).fill('1970-01-01T00:00:00Z'));
    expect(score.write_timestamps).toEqual(clicks.write_timestamps);
    const [w1, w6, w4] = score.write_timestamps!.map((t) => Date.parse(t!));
    expect(w1).toBeLessThanOrEqual(before); // materialized in beforeAll
    expect(w6).toBeGreaterThanOrEqual(before); // pushed just now
    expect(w6).toBeLessThanOrEqual(after);
    expect(w4).toBe(0); // NOT_FOUND
    expect(new Date(score.event_timestamps[1]).getTime()).toBe(NOW);
    // the rest of the response is the same as without the flag
    expect(r.json.results.map(({ write_timestamps: _w, ...rest }) => rest)).toEqual(plain.json.results);
  });

  it('feature_service, full_feature_names and multi-key entities', async () => {
    const r = await post(base, '/get-online-features', {
      feature_service: 'ranker',
      entities: { user_id: [1], item_id: ['a'] },
      full_feature_names: true,
    });
    expect(r.status).toBe(200);
    expect(r.json.metadata.feature_names).toEqual([
      'user_id',
      'item_id',
      'user_stats__clicks',
      'user_stats__embedding',
      'user_item__views',
    ]);
    expect(r.json.results[4].values).toEqual([9]);
  });

  it('bad requests: malformed JSON, wrong types, missing fields → 400 naming the field', async () => {
    const malformed = await post(base, '/get-online-features', '{"features": [');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: '(body)' });

    const cases: [unknown, string][] = [
      [{ features: 'user_stats:clicks', entities: { user_id: [1] } }, 'features'],
      [{ features: [1], entities: { user_id: [1] } }, 'features.0'],
      [{ features: ['user_stats:clicks'] }, 'entities'],
      [{ features: ['user_stats:clicks'], entities: { user_id: 1 } }, 'entities.user_id'],
      [{ features: ['user_stats:clicks'], entities: { user_id: [{ a: 1 }] } }, 'entities.user_id.0'],
      [
        { features: ['user_stats:clicks'], entities: { user_id: [1] }, full_feature_names: 'yes' },
        'full_feature_names',
      ],
      [{ entities: { user_id: [1] } }, 'features'],
      [{ features: ['user_stats:clicks'], entities: { user_id: [1, 2], item_id: [1] } }, 'entities.item_id'],
      [{ features: ['user_item:views'], entities: { user_id: [1] } }, 'entities.item_id'],
      [{ features: ['clicks'], entities: { user_id: [1] } }, 'features'],
      [[1, 2], '(body)'],
    ];
    for (const [body, field] of cases) {
      const r = await post(base, '/get-online-features', body);
      expect({ body, status: r.status, code: r.json.error?.code, field: r.json.error?.field }).toEqual({
        body,
        status: 400,
        code: 'INVALID_ARGUMENT',
        field,
      });
    }
    const push = await post(base, '/push', { push_source_name: 'user_events', df: { user_id: [1, 2], clicks: [1] } });
    expect(push.status).toBe(400);
    expect(push.json.error.field).toBe('df.clicks');
    const mat = await post(base, '/materialize', { start_ts: 'yesterday', end_ts: '2024-01-01T00:00:00Z' });
    expect(mat.json.error).toMatchObject({ field: 'start_ts' });
    const search = await post(base, '/search', { feature: 'user_stats:embedding', query: ['x'] });
    expect(search.json.error).toMatchObject({ field: 'query.0' });
  });

  it('limits: oversize body → 413, too many entities → 400', async () => {
    const big = await post(base, '/get-online-features', {
      features: ['user_stats:clicks'],
      entities: { user_id: Array.from({ length: 2000 }, (_, i) => i) },
    });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('INVALID_ARGUMENT');
    const many = await post(base, '/get-online-features', {
      features: ['user_stats:clicks'],
      entities: { user_id: Array.from({ length: 51 }, (_, i) => i) },
    });
    expect(many.status).toBe(400);
    expect(many.json.error.field).toBe('entities.user_id');
  });

  it('unknown feature, view, service, push source or route → 404 naming it', async () => {
    const f = await post(base, '/get-online-features', { features: ['user_stats:nope'], entities: { user_id: [1] } });
    expect(f.status).toBe(404);
    expect(f.json.error).toMatchObject({ code: 'NOT_FOUND', key: 'user_stats:nope' });
    expect(f.json.error.message).toContain('user_stats:nope');
    const v = await post(base, '/get-online-features', { features: ['ghost:x'], entities: { user_id: [1] } });
    expect(v.json.error).toMatchObject({ code: 'NOT_FOUND', key: 'ghost:x' });
    const s = await post(base, '/get-online-features', { feature_service: 'ghost', entities: { user_id: [1] } });
    expect(s.json.error).toMatchObject({ code: 'NOT_FOUND', key: 'ghost' });
    const p = await post(base, '/push', { push_source_name: 'ghost', df: { user_id: [1] } });
    expect(p.status).toBe(404);
    const route = await post(base, '/nope', {});
    expect(route.status).toBe(404);
  });

  it('POST /push writes online; late events do not regress; to=offline only feeds the engine', async () => {
    const t = new Date(NOW - 500).toISOString();
    const r = await post(base, '/push', {
      push_source_name: 'user_events',
      df: {
        user_id: [10, 11],
        event_timestamp: [t, t],
        clicks: [5, 6],
        score: [0.1, 0.2],
        embedding: [
          [0, 0, 0, 1],
          [0, 0, 1, 0],
        ],
      },
      to: 'online',
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok', rows: 2, written: 2 });
    const off = await post(base, '/push', {
      push_source_name: 'user_events',
      df: { user_id: [12], event_timestamp: [t], clicks: [1] },
      to: 'offline',
    });
    expect(off.json).toMatchObject({ status: 'ok', written: 0 });
    const g = await post(base, '/get-online-features', {
      features: ['user_stats:clicks', 'user_stats:embedding'],
      entities: { user_id: [10, 11, 12] },
    });
    expect(g.json.results[1].values).toEqual([5, 6, null]);
    expect(g.json.results[2].values[0]).toEqual([0, 0, 0, 1]);
  });

  it('POST /materialize and /materialize-incremental', async () => {
    repo.events.push(ev(20, NOW - 100, { clicks: 77n }));
    const r = await post(base, '/materialize', {
      start_ts: new Date(NOW - DAY_MS).toISOString(),
      end_ts: NOW,
      feature_views: ['user_stats'],
    });
    expect(r.status).toBe(200);
    expect(r.json.views).toHaveLength(1);
    expect(r.json.views[0]).toMatchObject({ view: 'user_stats' });
    const g = await post(base, '/get-online-features', {
      features: ['user_stats:clicks'],
      entities: { user_id: [20] },
    });
    expect(g.json.results[1].values).toEqual([77]);
    const inc = await post(base, '/materialize-incremental', { end_ts: new Date(NOW + 1000).toISOString() });
    expect(inc.status).toBe(200);
    expect(inc.json.views.map((v) => v.view)).toEqual(['user_stats', 'user_item']);
    const unknown = await post(base, '/materialize', { start_ts: 0, end_ts: NOW, feature_views: ['ghost'] });
    expect(unknown.status).toBe(404);
  });

  it('POST /search returns nearest entities', async () => {
    const r = await post(base, '/search', {
      feature: 'user_stats:embedding',
      query: [1, 2, 3, 4.1],
      k: 2,
      features: ['clicks'],
    });
    expect(r.status).toBe(200);
    expect(r.json.results[0]).toMatchObject({ entity: { user_id: 1 }, values: { clicks: 12 } });
    expect(r.json.results).toHaveLength(2);
    expect(typeof r.json.results[0].distance).toBe('number');
  });

  it('GET /health and GET /metrics (Prometheus text)', async () => {
    const h = await fetch(base + '/health');
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', store: { ok: true, kind: 'sqlite' } });
    const m = await fetch(base + '/metrics');
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await m.text();
    expect(text).toMatch(/strata_http_requests_total\{route="\/get-online-features",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/strata_http_requests_total\{route="\/get-online-features",method="POST",status="400"\} \d+/);
    expect(text).toMatch(/strata_http_request_duration_seconds_bucket\{route="\/get-online-features",le="\+Inf"\} \d+/);
    expect(text).toContain('# TYPE strata_http_request_duration_seconds histogram');
    expect(text).toMatch(/strata_online_store_errors_total\{store="sqlite"\} 0/);
  });
});

describe('feature server auth', () => {
  let dir: string;
  let store: SqliteOnlineStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-serve-auth-'));
    store = await SqliteOnlineStore.open(join(dir, 'online.sqlite'));
  });
  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('bearer token on every route but /health → 401 without it', async () => {
    await using server = await createFeatureServer(new FakeRepo(), store, { token: 's3cret' });
    const body = { features: ['user_stats:clicks'], entities: { user_id: [1] } };
    const none = await post(server.url, '/get-online-features', body);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('UNAUTHORIZED');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(server.url, '/get-online-features', body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(server.url, '/get-online-features', body, { authorization: 's3cret' })).status).toBe(401);
    expect((await post(server.url, '/get-online-features', body, { authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await fetch(server.url + '/metrics')).status).toBe(401);
    expect((await post(server.url, '/push', {})).status).toBe(401); // auth before validation
    expect((await post(server.url, '/nope', {})).status).toBe(401);
    expect((await fetch(server.url + '/metrics', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(server.url + '/health')).status).toBe(200);
  });

  it('token defaults to STRATA_TOKEN', async () => {
    const before = process.env.STRATA_TOKEN;
    process.env.STRATA_TOKEN = 'from-env';
    try {
      await using server = await createFeatureServer(new FakeRepo(), store);
      expect((await fetch(server.url + '/metrics')).status).toBe(401);
      expect((await fetch(server.url + '/metrics', { headers: { authorization: 'Bearer from-env' } })).status).toBe(
        200,
      );
    } finally {
      if (before === undefined) delete process.env.STRATA_TOKEN;
      else process.env.STRATA_TOKEN = before;
    }
  });
});

describe('feature server graceful shutdown', () => {
  it('close() drains an in-flight request, then refuses new ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-serve-drain-'));
    const store = await SqliteOnlineStore.open(join(dir, 'online.sqlite'));
    try {
      let started!: () => void;
      const inFlight = new Promise<void>((r) => (started = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const base = new FakeRepo([ev(1, NOW - 10, {})]);
      const slow = Object.assign(Object.create(base) as FakeRepo, {
        async *latestValues(view: string, o: Parameters<FakeRepo['latestValues']>[1]) {
          started();
          await gate;
          yield* base.latestValues(view, o);
        },
      });
      const server = await createFeatureServer(slow, store);
      const pending = post(server.url, '/materialize', { start_ts: 0, end_ts: NOW, feature_views: ['user_stats'] });
      await inFlight;
      let closed = false;
      const closing = server.close().then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(false); // still draining
      release();
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.json.views[0].rows).toBe(1);
      await closing;
      await expect(fetch(server.url + '/health')).rejects.toThrow();
      await server.close(); // idempotent
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
