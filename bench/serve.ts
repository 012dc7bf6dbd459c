/**
 * Online serving benchmark (issue 7). `npm run bench -- serve` or `npx tsx bench/serve.ts`.
 *
 * Data (generated here): 100k entities × 10 float64 features + one 512-d float32 embedding,
 * materialized into the embedded SQLite store and into a real redis-server.
 * Load: a SECOND process on loopback, 1 entity per request (random ids), against
 *   - the feature server on the embedded store,
 *   - the feature server on Redis,
 *   - a bare Fastify route returning a constant JSON body of the same size (the ceiling: the same bytes,
 *     pre-serialized), same run.
 * Each server runs in its own process, as `strata serve` does in production (started by this script,
 * which generates and materializes the data first), so no target shares a heap or event loop with
 * another or with the bench's own data.
 * Per target: max throughput with autocannon (closed loop, fixed connections), then p99 latency in an
 * open-loop run at 50% of that max (requests sent on a fixed schedule over up to 64 raw keep-alive
 * sockets, wrk2-style, never waiting on earlier responses, so server queueing is not hidden; the same
 * schedule through node:http's client is reported beside it, whose own event loop inflates the tail). Plus the in-process
 * getOnlineFeatures p50, and server CPU time per request (robust when other processes share the cores).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import {
  FeatureLogger,
  getOnlineFeatures,
  materialize,
  RedisOnlineStore,
  SqliteOnlineStore,
  type LatestValuesBatch,
  type OnlineRepo,
  type OnlineStore,
  type OnlineView,
} from '../src/online/index.js';
import { createFeatureServer } from '../src/serve/index.js';
import { REDIS_SKIP, RedisServer } from '../test/helpers/redis-server.js';
import { ondemandRatio } from './serve-ondemand.js';

const ENTITIES = Number(process.env.STRATA_BENCH_ENTITIES ?? 100_000);
const DIM = 512;
const SCALARS = 10;
const CONNECTIONS = 16;
const MAX_S = 2;
const ROUNDS = 2;
const LAT_S = 3;
/**
 * Each open-loop run starts with this many seconds at the same rate, not recorded: targets are
 * interleaved, so a server has sat idle ~10 s before each of its runs (and the generator process is
 * new), and its first ~0.5 s at the rate measure that restart (re-optimizing code, growing the young
 * generation), not serving at 50% load (side by side, 12 embedded runs with p99 up to 25 ms: without
 * their first 0.5 s, 1.7-2.9 ms in 8 of them, 3.3-7.8 ms in 4).
 */
const LAT_WARM_S = 1;
/** Open-loop latency runs per target, interleaved across targets; p50/p99 are over all their requests. */
const LAT_ROUNDS = 3;
const WARM_S = 1;
const T_END = Date.parse('2024-06-01T00:00:00Z');

const VIEW: OnlineView = {
  name: 'items',
  entities: ['entity_id'],
  features: [
    ...Array.from({ length: SCALARS }, (_, i) => ({ name: `f${i}`, dtype: 'float64' })),
    { name: 'embedding', dtype: `float32[${DIM}]` },
  ],
};
const FEATURES = VIEW.features.map((f) => `items:${f.name}`);

/** Deterministic data source: the latest values of every entity, generated batch by batch. */
class BenchRepo implements OnlineRepo {
  readonly views = [VIEW];
  readonly services = { bench: FEATURES };
  async *latestValues(): AsyncIterable<LatestValuesBatch> {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let start = 0; start < ENTITIES; start += 1000) {
      const n = Math.min(1000, ENTITIES - start);
      const entityKeys = [];
      const values = [];
      const ts = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        entityKeys.push({ entity_id: start + i });
        const v: Record<string, unknown> = {};
        for (let f = 0; f < SCALARS; f++) v[`f${f}`] = Math.round(rnd() * 1e6) / 1e3;
        const emb = new Float32Array(DIM);
        for (let d = 0; d < DIM; d++) emb[d] = rnd() * 2 - 1;
        v.embedding = emb;
        values.push(v);
        ts[i] = T_END - Math.floor(rnd() * 86_400_000);
      }
      yield { entityKeys, values, eventTimestampsMs: ts };
    }
  }
  push(): Promise<never[]> {
    return Promise.resolve([]);
  }
}

// ------------------------------------------------------------------------- load generator (child)

const LOAD_CHILD = String.raw`
const http = require('node:http');
const cfg = JSON.parse(process.env.STRATA_BENCH_LOAD);
const prefix = '{"features":' + JSON.stringify(cfg.features) + ',"entities":{"entity_id":[';
let seed = cfg.seed >>> 0;
function body() { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return prefix + (seed % cfg.entities) + ']}}'; }
function out(o, done) { process.stdout.write(JSON.stringify(o) + '\n', done); }
if (cfg.mode === 'max') {
  const autocannon = require(cfg.autocannon);
  autocannon({
    url: cfg.url + cfg.path, method: 'POST', headers: { 'content-type': 'application/json' },
    connections: cfg.connections, pipelining: 1, duration: cfg.durationS,
    requests: [{ setupRequest: (req) => { req.body = body(); return req; } }],
  }, (err, r) => {
    if (err) { console.error(err); process.exit(1); }
    out({ rps: r.requests.total / (r.duration || cfg.durationS), requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, bytes: r.throughput.total / Math.max(1, r.requests.total) });
  });
} else if (cfg.mode === 'open-http') {
  // The same open loop through node:http's client (for comparison: its own CPU per request and event
  // loop show up in the latencies it reports).
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.connections });
  const u = new URL(cfg.url + cfg.path);
  const total = Math.max(1, Math.floor(cfg.rate * cfg.durationS));
  const interval = 1000 / cfg.rate;
  const lat = new Float64Array(total);
  let sent = 0, done = 0, errors = 0, non2xx = 0;
  const t0 = performance.now() + 5;
  const finish = () => {
    if (++done < total) return;
    const s = Array.from(lat).sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    out({ sent: total, rate: cfg.rate, achievedRps: total / ((performance.now() - t0) / 1000), p50: q(0.5), p99: q(0.99), max: s[s.length - 1], errors, non2xx, clientCpuUsPerReq: (() => { const c = process.cpuUsage(); return (c.user + c.system) / total; })() });
    agent.destroy();
  };
  // Latency from the moment the request is handed to the socket: the generator's own timer lateness
  // (setTimeout granularity, ~1 ms) is not the server's. Requests never wait on earlier responses (64
  // sockets, open loop), so a slow server still shows up in full.
  const send = (i) => {
    const b = body();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) } }, (res) => {
      res.resume();
      res.on('end', () => { lat[i] = performance.now() - t; if (res.statusCode !== 200) non2xx++; finish(); });
    });
    req.on('error', () => { lat[i] = performance.now() - t; errors++; finish(); });
    const t = performance.now();
    req.end(b);
  };
  const tick = () => {
    const now = performance.now();
    while (sent < total && t0 + sent * interval <= now) { send(sent); sent++; }
    if (sent < total) setTimeout(tick, 1);
  };
  setTimeout(tick, 5);
} else {
  // Open loop over raw keep-alive sockets (wrk2-style): requests are plain bytes, responses are framed
  // by Content-Length only. The generator's event loop then stays short enough not to add its own
  // queueing to the latencies it reports, which node:http's client does (the open-http mode above,
  // reported beside it: p99 of the bare route 10-18 ms there, ~2 ms here). clientCpuUsPerReq: its CPU
  // (process start, loopback TCP in the kernel included) per request.
  const net = require('node:net');
  const u = new URL(cfg.url + cfg.path);
  // The first warmS seconds run on the same schedule and sockets but are not recorded (see measure()).
  const warm = Math.floor(cfg.rate * (cfg.warmS || 0));
  const total = warm + Math.max(1, Math.floor(cfg.rate * cfg.durationS));
  const interval = 1000 / cfg.rate;
  const lat = new Float64Array(total);
  let sent = 0, done = 0, errors = 0, non2xx = 0, opened = 0;
  let t0 = 0;
  const head = 'POST ' + u.pathname + ' HTTP/1.1\r\nhost: ' + u.host + '\r\ncontent-type: application/json\r\ncontent-length: ';
  const request = () => { const b = body(); return Buffer.from(head + Buffer.byteLength(b) + '\r\n\r\n' + b); };
  const free = [];
  const waiting = []; // [index, start time] of requests due while every socket was busy
  const finish = () => {
    if (++done < total) return;
    const s = Array.from(lat.subarray(warm)).sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    out({ sent: total - warm, rate: cfg.rate, achievedRps: total / ((performance.now() - t0) / 1000), p50: q(0.5), p99: q(0.99), max: s[s.length - 1], errors, non2xx, sockets: opened, clientCpuUsPerReq: (() => { const c = process.cpuUsage(); return (c.user + c.system) / total; })(), latenciesUs: s.map((x) => Math.round(x * 1000)) }, () => process.exit(0));
  };
  const dispatch = (conn, i, start) => { conn.i = i; conn.start = start; conn.sock.write(request()); };
  const connect = () => new Promise((resolve) => {
    const conn = { sock: net.connect({ host: u.hostname, port: Number(u.port) }), i: -1, start: 0, buf: Buffer.alloc(0), need: -1, status: 0 };
    conn.sock.setNoDelay(true);
    conn.sock.on('connect', () => { opened++; resolve(conn); });
    conn.sock.on('error', () => { if (conn.i >= 0) { lat[conn.i] = performance.now() - conn.start; errors++; conn.i = -1; finish(); } });
    conn.sock.on('data', (d) => {
      conn.buf = conn.buf.length ? Buffer.concat([conn.buf, d]) : d;
      for (;;) {
        if (conn.need < 0) {
          const end = conn.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const h = conn.buf.toString('latin1', 0, end);
          conn.status = Number(h.slice(9, 12));
          const m = /content-length: *(\d+)/i.exec(h);
          if (!m) { errors++; conn.sock.destroy(); return; }
          conn.need = end + 4 + Number(m[1]);
        }
        if (conn.buf.length < conn.need) return;
        conn.buf = conn.buf.subarray(conn.need);
        conn.need = -1;
        lat[conn.i] = performance.now() - conn.start;
        if (conn.status !== 200) non2xx++;
        conn.i = -1;
        const next = waiting.shift();
        if (next) dispatch(conn, next[0], next[1]); else free.push(conn);
        finish();
      }
    });
  });
  // Latency runs from the moment a request is due and handed to a socket (or queued for one, when all
  // are busy: that wait counts), to its last response byte.
  const tick = () => {
    const now = performance.now();
    while (sent < total && t0 + sent * interval <= now) {
      const conn = free.pop();
      if (conn) dispatch(conn, sent, now); else waiting.push([sent, now]);
      sent++;
    }
    if (sent < total) setTimeout(tick, 1);
  };
  Promise.all(Array.from({ length: cfg.connections }, connect)).then((conns) => {
    free.push(...conns);
    t0 = performance.now();
    tick();
  });
}
`;

interface MaxResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  bytes: number;
}
interface LatResult {
  latenciesUs?: number[];
  rate: number;
  clientCpuUsPerReq: number;
  achievedRps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

function load<T>(cfg: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOAD_CHILD], {
      env: {
        ...process.env,
        STRATA_BENCH_LOAD: JSON.stringify({
          features: FEATURES,
          entities: ENTITIES,
          seed: 7,
          path: '/get-online-features',
          ...cfg,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = text.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`load generator failed (exit ${code}): ${text}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

// ------------------------------------------------------------------------------ servers (children)

/** What a server process serves: the feature server on one store, or the bare ceiling routes. */
type ServerSpec =
  | { readonly kind: 'embedded'; readonly sqlitePath: string; readonly logDataset?: string }
  | { readonly kind: 'redis'; readonly redisUrl: string }
  | { readonly kind: 'bare'; readonly body: string };

interface ServerProcess {
  readonly url: string;
  /** CPU time (user + system) the server process has used so far, µs. */
  cpuUs(): Promise<number>;
  close(): Promise<void>;
}

const SERVER_FLAG = '--server';

/** Starts `spec` in a new process (this file with --server) and waits for its URL. */
function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), SERVER_FLAG], {
    env: { ...process.env, STRATA_BENCH_SERVER: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: ((m: { cpuUs: number }) => void)[] = [];
  return new Promise((resolve, reject) => {
    const failed = (code: number | null) =>
      reject(new Error(`${spec.kind} server process exited (code ${code}) before listening`));
    child.once('exit', failed);
    child.once('error', reject);
    child.on('message', (m: { url?: string; cpuUs?: number }) => {
      if (m.url !== undefined) {
        child.off('exit', failed);
        resolve({
          url: m.url,
          cpuUs: () =>
            new Promise((r) => {
              replies.push((x) => r(x.cpuUs));
              child.send('cpu');
            }),
          close: () =>
            new Promise((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r();
              child.once('exit', () => r());
              child.send('close');
            }),
        });
      } else if (m.cpuUs !== undefined) replies.shift()?.(m as { cpuUs: number });
    });
  });
}

/** The server process: serve, answer 'cpu' with its CPU time, stop on 'close' (or when the bench exits). */
async function serverMain(spec: ServerSpec): Promise<void> {
  let close: () => Promise<unknown>;
  let url: string;
  if (spec.kind === 'bare') {
    // The ceiling: a route returning a constant JSON body of the same size — the same JSON, as a
    // constant object that Fastify serializes per request like any handler's result; and the same
    // bytes pre-serialized (no per-request JSON work at all), the strictest possible ceiling. Both
    // parse the request body, as the real route does.
    const constant = JSON.parse(spec.body) as object;
    const bare = Fastify({ logger: false });
    bare.post('/get-online-features', () => Promise.resolve(constant));
    bare.post('/preserialized', (_req, reply) => {
      reply.type('application/json; charset=utf-8').send(spec.body);
    });
    await bare.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;
    close = () => bare.close();
  } else {
    const store =
      spec.kind === 'embedded'
        ? await SqliteOnlineStore.open(spec.sqlitePath)
        : await RedisOnlineStore.open({ url: spec.redisUrl, project: 'bench' });
    // With logDataset: served-feature logging of 1% of requests (serve_ratio_with_logging).
    const logging =
      spec.kind === 'embedded' && spec.logDataset ? { dataset: spec.logDataset, sampleRate: 0.01 } : false;
    const server = await createFeatureServer(new BenchRepo(), store, { token: '', logging });
    url = server.url;
    close = async () => {
      await server.close();
      await store.close();
    };
  }
  process.on('message', (m) => {
    if (m === 'cpu') {
      const c = process.cpuUsage();
      process.send!({ cpuUs: c.user + c.system });
    } else if (m === 'close') void close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ url });
}

interface Target {
  readonly name: string;
  readonly url: string;
  /** The server process behind `url`. */
  readonly server: ServerProcess;
  /** Default `/get-online-features`. */
  readonly path?: string;
  best?: MaxResult;
  lat?: LatResult;
  /** The open-loop runs pooled into `lat`. */
  latRuns?: LatResult[];
  /** The same open-loop run through node:http's client, for comparison. */
  latHttp?: LatResult;
  /** Server CPU time (its process: user + system) per request over the max runs, µs. */
  cpuUsPerReq?: number;
}

/**
 * Max throughput: ROUNDS interleaved autocannon runs per target (bare, embedded, redis, bare, …), best
 * kept, so a burst of load from elsewhere on the machine hits every target alike. Then an open-loop run
 * per target at 50% of its best.
 */
async function measure(targets: Target[], autocannonPath: string): Promise<void> {
  for (const t of targets)
    await load<MaxResult>({
      mode: 'max',
      url: t.url,
      path: t.path ?? '/get-online-features',
      autocannon: autocannonPath,
      connections: CONNECTIONS,
      durationS: WARM_S,
    });
  const cpu = new Map<Target, { us: number; reqs: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const c0 = await t.server.cpuUs();
      const r = await load<MaxResult>({
        mode: 'max',
        url: t.url,
        path: t.path ?? '/get-online-features',
        autocannon: autocannonPath,
        connections: CONNECTIONS,
        durationS: MAX_S,
      });
      const used = (await t.server.cpuUs()) - c0;
      if (r.non2xx || r.errors)
        throw new Error(`${t.name}: ${r.non2xx} non-2xx responses and ${r.errors} errors under load`);
      if (!t.best || r.rps > t.best.rps) t.best = r;
      const acc = cpu.get(t) ?? { us: 0, reqs: 0 };
      acc.us += used;
      acc.reqs += r.requests;
      cpu.set(t, acc);
    }
  }
  for (const [t, c] of cpu) t.cpuUsPerReq = c.us / c.reqs;
  const runs = new Map<Target, LatResult[]>();
  for (let round = 0; round < LAT_ROUNDS; round++) {
    for (const t of targets) {
      const lat = await load<LatResult>({
        mode: 'open',
        url: t.url,
        path: t.path ?? '/get-online-features',
        connections: 64,
        warmS: LAT_WARM_S,
        durationS: LAT_S,
        rate: Math.max(1, Math.round(t.best!.rps / 2)),
      });
      if (lat.non2xx || lat.errors)
        throw new Error(`${t.name}: ${lat.non2xx} non-2xx responses and ${lat.errors} errors in the latency run`);
      runs.set(t, [...(runs.get(t) ?? []), lat]);
    }
  }
  for (const t of targets) {
    t.latRuns = runs.get(t)!;
    t.lat = pooled(t.latRuns);
    t.latHttp = await load<LatResult>({
      mode: 'open-http',
      url: t.url,
      path: t.path ?? '/get-online-features',
      connections: 64,
      durationS: LAT_S,
      rate: Math.max(1, Math.round(t.best!.rps / 2)),
    });
  }
}

/** One result over every request of several runs (quantiles of the pooled latencies). */
function pooled(runs: readonly LatResult[]): LatResult {
  const all = Float64Array.from(
    runs.flatMap((r) => r.latenciesUs ?? []),
    (us) => us / 1000,
  ).sort();
  const q = (p: number) => all[Math.min(all.length - 1, Math.floor(p * all.length))];
  const n = runs.length;
  return {
    rate: runs[0].rate,
    achievedRps: runs.reduce((a, r) => a + r.achievedRps, 0) / n,
    p50: q(0.5),
    p99: q(0.99),
    max: all[all.length - 1],
    errors: runs.reduce((a, r) => a + r.errors, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    clientCpuUsPerReq: runs.reduce((a, r) => a + r.clientCpuUsPerReq, 0) / n,
  };
}

async function fill(repo: OnlineRepo, store: OnlineStore): Promise<number> {
  const t0 = performance.now();
  await materialize(repo, store, { start: new Date(0), end: new Date(T_END + 1), batchRows: 1000 });
  return ENTITIES / ((performance.now() - t0) / 1000);
}

function inprocP50(repo: OnlineRepo, store: OnlineStore): Promise<number> {
  return (async () => {
    const n = 20_000;
    const times = new Float64Array(n);
    let seed = 99;
    for (let i = -2000; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const t0 = process.hrtime.bigint();
      const r = await getOnlineFeatures(repo, store, {
        features: FEATURES,
        entities: { entity_id: [seed % ENTITIES] },
      });
      const t1 = process.hrtime.bigint();
      if (r.columns[0].statuses[0] !== 'PRESENT') throw new Error('bench data missing');
      if (i >= 0) times[i] = Number(t1 - t0) / 1000;
    }
    times.sort();
    return times[n >> 1];
  })();
}

/**
 * Extra CPU per served request of 1% served-feature logging, amortized (flushes included), in process:
 * CPU time of 20k getOnlineFeatures calls with a logger (closed at the end, so every logged row is
 * appended and committed) minus without, best of 3 interleaved rounds. CPU time, not wall time, so
 * other processes on the machine do not move it much.
 */
async function loggingCpuUsPerRequest(repo: OnlineRepo, store: OnlineStore, dir: string): Promise<number> {
  const n = 20_000;
  const round = async (logger?: FeatureLogger): Promise<number> => {
    let seed = 5;
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      await getOnlineFeatures(repo, store, {
        features: FEATURES,
        entities: { entity_id: [seed % ENTITIES] },
        ...(logger ? { logger } : {}),
      });
    }
    if (logger) await logger.close();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / n;
  };
  await round();
  let off = Infinity;
  let on = Infinity;
  for (let r = 0; r < 3; r++) {
    off = Math.min(off, await round());
    on = Math.min(
      on,
      await round(await FeatureLogger.open({ dataset: join(dir, 'inproc-log.strata'), sampleRate: 0.01 })),
    );
  }
  return on - off;
}

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export async function run(): Promise<Record<string, number>> {
  const autocannonPath = createRequire(import.meta.url).resolve('autocannon');
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-serve-'));
  const repo = new BenchRepo();
  const figures: Record<string, number> = {};
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    console.log(`generating and materializing ${ENTITIES} entities × (${SCALARS} float64 + float32[${DIM}]) …`);
    const sqlitePath = join(dir, 'online.sqlite');
    const sqlite = await SqliteOnlineStore.open(sqlitePath);
    cleanup.push(() => sqlite.close());
    figures.materialize_rows_per_s_embedded = await fill(repo, sqlite);

    let redisUrl: string | undefined;
    if (REDIS_SKIP) console.log(`Redis figures skipped: ${REDIS_SKIP}`);
    else {
      const redis = await RedisServer.start();
      cleanup.push(() => redis.close());
      const redisStore = await RedisOnlineStore.open({ url: redis.url, project: 'bench' });
      figures.materialize_rows_per_s_redis = await fill(repo, redisStore);
      await redisStore.close();
      redisUrl = redis.url;
    }

    figures.inproc_get_us_p50 = await inprocP50(repo, sqlite);
    figures.logging_cpu_us_per_request = await loggingCpuUsPerRequest(repo, sqlite, dir);

    await sqlite.close();

    const start = async (spec: ServerSpec): Promise<ServerProcess> => {
      const server = await startServer(spec);
      cleanup.push(() => server.close());
      return server;
    };
    const embedded = await start({ kind: 'embedded', sqlitePath });
    const sample = await fetch(embedded.url + '/get-online-features', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: FEATURES, entities: { entity_id: [1] } }),
    });
    const sampleText = await sample.text();
    const bare = await start({ kind: 'bare', body: sampleText });
    figures.response_bytes = Buffer.byteLength(sampleText);

    const check = await fetch(bare.url + '/get-online-features', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    if ((await check.text()).length !== sampleText.length)
      throw new Error('bare route does not return a body of the same size');
    const targets: Target[] = [
      { name: 'bare', url: bare.url, server: bare },
      { name: 'embedded', url: embedded.url, server: embedded },
      { name: 'bare_preserialized', url: bare.url, path: '/preserialized', server: bare },
    ];
    if (redisUrl) {
      const rs = await start({ kind: 'redis', redisUrl });
      targets.push({ name: 'redis', url: rs.url, server: rs });
    }
    const logged = await start({ kind: 'embedded', sqlitePath, logDataset: join(dir, 'served-log.strata') });
    targets.push({ name: 'embedded_logging', url: logged.url, server: logged });
    figures.loadavg_1m_before = loadavg()[0];
    await measure(targets, autocannonPath);
    figures.loadavg_1m_after = loadavg()[0];
    // issue 22: one cosine on-demand feature over two 128-d embeddings vs the same request without it
    const od = await ondemandRatio();
    figures.serve_ratio_ondemand = od.ratio;
    figures.serve_cpu_ratio_ondemand = od.cpuRatio;
    const [b, e, pre] = targets;
    const r = targets.find((t) => t.name === 'redis');
    const lg = targets.find((t) => t.name === 'embedded_logging')!;
    figures.rps_bare = b.best!.rps;
    figures.p99_ms_bare = b.lat!.p99;
    figures.rps_embedded = e.best!.rps;
    figures.ratio_embedded = e.best!.rps / b.best!.rps;
    figures.p99_ms_embedded = e.lat!.p99;
    figures.p99_ms_embedded_worst_run = Math.max(...e.latRuns!.map((x) => x.p99));
    figures.cpu_us_per_req_bare = b.cpuUsPerReq!;
    figures.cpu_us_per_req_embedded = e.cpuUsPerReq!;
    // Server CPU per request, bare / embedded: the throughput ratio a CPU-bound server reaches,
    // unaffected by other processes competing for the cores during the run.
    figures.cpu_ratio_embedded = b.cpuUsPerReq! / e.cpuUsPerReq!;
    figures.rps_bare_preserialized = pre.best!.rps;
    figures.ratio_embedded_preserialized = e.best!.rps / pre.best!.rps;
    figures.cpu_us_per_req_bare_preserialized = pre.cpuUsPerReq!;
    figures.p50_ms_embedded = e.lat!.p50;
    figures.client_cpu_us_per_req = e.lat!.clientCpuUsPerReq;
    figures.p99_ms_bare_nodehttp_client = b.latHttp!.p99;
    figures.p99_ms_embedded_nodehttp_client = e.latHttp!.p99;
    figures.client_cpu_us_per_req_nodehttp = e.latHttp!.clientCpuUsPerReq;
    figures.rps_embedded_logging = lg.best!.rps;
    figures.serve_ratio_with_logging = lg.best!.rps / e.best!.rps;
    figures.cpu_ratio_with_logging = e.cpuUsPerReq! / lg.cpuUsPerReq!;
    figures.p99_ms_embedded_logging = lg.lat!.p99;
    // The same ratio from CPU time: the embedded server's CPU per request against it plus the logging's.
    figures.cpu_ratio_with_logging_inproc = e.cpuUsPerReq! / (e.cpuUsPerReq! + figures.logging_cpu_us_per_request);
    if (r) {
      figures.rps_redis = r.best!.rps;
      figures.ratio_redis = r.best!.rps / b.best!.rps;
      figures.p99_ms_redis = r.lat!.p99;
      figures.p99_ms_redis_worst_run = Math.max(...r.latRuns!.map((x) => x.p99));
      figures.cpu_us_per_req_redis = r.cpuUsPerReq!;
      figures.cpu_ratio_redis = b.cpuUsPerReq! / r.cpuUsPerReq!;
      figures.p50_ms_redis = r.lat!.p50;
      figures.p99_ms_redis_nodehttp_client = r.latHttp!.p99;
    }

    const fmt = (n: number | undefined, d = 1) => (n === undefined ? 'skipped' : n.toFixed(d));
    console.log('');
    console.log(
      table([
        ['data', `${ENTITIES} entities, ${SCALARS} float64 + float32[${DIM}], ${figures.response_bytes} B response`],
        [
          'load',
          `each server in its own process; load from another process on loopback, 1 entity/request; max: autocannon ${CONNECTIONS} conns, best of ${ROUNDS} interleaved ${MAX_S}s runs; p99: open loop at 50% of max over 64 raw keep-alive sockets, ${LAT_ROUNDS} interleaved ${LAT_S}s runs pooled, each after ${LAT_WARM_S}s at the same rate not recorded`,
        ],
        ['materialize embedded', `${fmt(figures.materialize_rows_per_s_embedded, 0)} rows/s`],
        ['materialize redis', `${fmt(figures.materialize_rows_per_s_redis, 0)} rows/s`],
        [
          'bare fastify (ceiling)',
          `${fmt(figures.rps_bare, 0)} rps, p99 ${fmt(figures.p99_ms_bare, 2)} ms at 50% (constant object, serialized per request)`,
        ],
        [
          'bare, pre-serialized',
          `${fmt(figures.rps_bare_preserialized, 0)} rps (same bytes, no JSON work); embedded / this = ${fmt(figures.ratio_embedded_preserialized, 2)}`,
        ],
        [
          'embedded (sqlite)',
          `${fmt(figures.rps_embedded, 0)} rps (ratio ${fmt(figures.ratio_embedded, 2)}, target ≥ 0.6), p99 ${fmt(figures.p99_ms_embedded, 2)} ms at 50% (target < 5)`,
        ],
        [
          'embedded, 1% logged',
          `${fmt(figures.rps_embedded_logging, 0)} rps (vs embedded ${fmt(figures.serve_ratio_with_logging, 3)}, target ≥ 0.95; CPU/request ratio ${fmt(figures.cpu_ratio_with_logging, 3)}; logging costs ${fmt(figures.logging_cpu_us_per_request, 2)} µs CPU per served request in process, ratio ${fmt(figures.cpu_ratio_with_logging_inproc, 3)}), p99 ${fmt(figures.p99_ms_embedded_logging, 2)} ms at 50%`,
        ],
        [
          'redis',
          `${fmt(figures.rps_redis, 0)} rps (ratio ${fmt(figures.ratio_redis, 2)}), p99 ${fmt(figures.p99_ms_redis, 2)} ms at 50% (target < 10)`,
        ],
        [
          'latency runs (open loop)',
          targets
            .filter((t) => t.lat)
            .map(
              (t) =>
                `${t.name}: ${fmt(t.lat!.achievedRps, 0)}/${fmt(t.lat!.rate, 0)} rps, p50 ${fmt(t.lat!.p50, 2)} p99 ${fmt(t.lat!.p99, 2)} max ${fmt(t.lat!.max, 1)} ms (p99 per run ${t.latRuns!.map((r) => fmt(r.p99, 2)).join(', ')})`,
            )
            .join('; '),
        ],
        [
          'load generator',
          `raw keep-alive sockets: ${fmt(figures.client_cpu_us_per_req)} µs CPU/request; the same schedule through node:http's client (${fmt(figures.client_cpu_us_per_req_nodehttp)} µs/request) reports p99 bare ${fmt(figures.p99_ms_bare_nodehttp_client, 2)}, embedded ${fmt(figures.p99_ms_embedded_nodehttp_client, 2)}, redis ${fmt(figures.p99_ms_redis_nodehttp_client, 2)} ms: its own event loop, not the server`,
        ],
        [
          'server CPU per request',
          `bare ${fmt(figures.cpu_us_per_req_bare)} µs (pre-serialized ${fmt(figures.cpu_us_per_req_bare_preserialized)}), embedded ${fmt(figures.cpu_us_per_req_embedded)} µs (ratio ${fmt(figures.cpu_ratio_embedded, 2)}), redis ${fmt(figures.cpu_us_per_req_redis)} µs (ratio ${fmt(figures.cpu_ratio_redis, 2)}, redis-server CPU not included)`,
        ],
        [
          'on-demand (cosine, 2×128-d)',
          `rps with / without ${fmt(od.ratio, 2)} (target ≥ 0.9; ${fmt(od.rpsWith, 0)} / ${fmt(od.rpsWithout, 0)}), server CPU/request without / with ${fmt(od.cpuRatio, 2)}`,
        ],
        ['in-process get, embedded', `p50 ${fmt(figures.inproc_get_us_p50, 1)} µs (target < 50)`],
        [
          'machine load (1 min avg)',
          `${fmt(figures.loadavg_1m_before, 2)} before, ${fmt(figures.loadavg_1m_after, 2)} after the HTTP runs (${cpus().length} cores)`,
        ],
      ]),
    );
    const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
    console.log(JSON.stringify(rounded));
    return rounded;
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  (process.argv.includes(SERVER_FLAG)
    ? serverMain(JSON.parse(process.env.STRATA_BENCH_SERVER ?? '{}') as ServerSpec)
    : run()
  ).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
