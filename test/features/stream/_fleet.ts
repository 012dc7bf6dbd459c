/**
 * The fleet scenario shared by the Redis Streams and JetStream acceptance tests: `strata serve`
 * replicas and `strata stream` consumers as child processes over one Redis (online store, leases,
 * checkpoints) and the transport; events pushed round-robin through the servers; the online values
 * compared with batch materialization of the same events.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromRecords } from '../../../src/features/engine/build.js';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../../src/features/index.js';
import { RedisOnlineStore, SqliteOnlineStore, materialize, type OnlineRecord } from '../../../src/online/index.js';
import { startServer, startStrata } from '../../cli/run-cli.js';

export const USERS = 200;
export const PARTITIONS = 8;
export const LEASE_MS = 1500;
const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 0, 1);

export interface Ev {
  user_id: number;
  amount: number;
  event_timestamp: number;
  event_id: string;
}

const SCHEMA = { user_id: 'int64', amount: 'float64', event_timestamp: 'timestamp', event_id: 'string' } as const;
const AGGS = [
  { column: 'amount', function: 'sum', window: '1h', name: 'amount_sum_1h' },
  { function: 'count', window: '1d', name: 'tx_count_1d' },
  { column: 'amount', function: 'max', window: '6h', name: 'amount_max_6h' },
] as const;

export function repoYaml(transport: 'redis' | 'jetstream', stream: string): string {
  return `project: fleet
entities:
  - name: user
    join_keys: [user_id]
sources:
  - name: tx
    kind: stream
    transport: ${transport}
    stream: ${stream}
    partitions: ${PARTITIONS}
    key_field: user_id
    id_field: event_id
    allowed_lateness: 1d
    schema: { user_id: int64, amount: float64, event_timestamp: timestamp, event_id: string }
feature_views:
  - name: user_stats
    entities: [user]
    source: tx
    aggregations:
${AGGS.map((a) => `      - ${JSON.stringify(a)}`).join('\n')}
`;
}

/**
 * `n` events between `fromMs` and `toMs` with integer amounts (sums exact in any order), then one
 * event per user at exactly `toMs` (so every partition's newest event time is `toMs`).
 */
export function makeEvents(n: number, fromMs: number, toMs: number, idPrefix: string, seed: number): Ev[] {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out: Ev[] = [];
  for (let i = 0; i < n - USERS; i++)
    out.push({
      user_id: Math.floor(rnd() * USERS),
      amount: 1 + Math.floor(rnd() * 100),
      event_timestamp: fromMs + Math.floor(rnd() * (toMs - fromMs)),
      event_id: `${idPrefix}-${i}`,
    });
  out.sort((a, b) => a.event_timestamp - b.event_timestamp);
  for (let u = 0; u < USERS; u++)
    out.push({ user_id: u, amount: 1 + (u % 7), event_timestamp: toMs, event_id: `${idPrefix}-last-${u}` });
  return out;
}

export const hours = (h: number) => T0 + h * HOUR;

/** Pushes events in batches, alternating between the servers, two requests in flight. */
export async function pushRoundRobin(urls: readonly string[], events: readonly Ev[], batch = 500): Promise<void> {
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += batch) {
    const part = events.slice(i, i + batch);
    bodies.push(
      JSON.stringify({
        push_source_name: 'tx',
        df: {
          user_id: part.map((e) => e.user_id),
          amount: part.map((e) => e.amount),
          event_timestamp: part.map((e) => e.event_timestamp),
          event_id: part.map((e) => e.event_id),
        },
      }),
    );
  }
  for (let i = 0; i < bodies.length; i += urls.length) {
    await Promise.all(
      urls.map(async (url, j) => {
        const body = bodies[i + j];
        if (!body) return;
        const r = await fetch(`${url}/push`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        if (r.status !== 200) throw new Error(`push to ${url}: ${r.status} ${await r.text()}`);
      }),
    );
  }
}

/** The online rows batch materialization writes for these events as of `endMs`. */
export async function batchRows(events: readonly Ev[], endMs: number, dir: string): Promise<(OnlineRecord | null)[]> {
  const repo = await FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['user_id'] }),
    defineSource({
      name: 'tx_batch',
      kind: 'table',
      table: tableFromRecords(events as unknown as Record<string, unknown>[], {
        columns: Object.keys(SCHEMA),
        dtypes: SCHEMA,
      }),
      idField: 'event_id',
    }),
    defineFeatureView({ name: 'user_stats', entities: ['user'], source: 'tx_batch', aggregations: AGGS }),
  ]);
  const store = await SqliteOnlineStore.open(join(dir, `batch-${Date.now()}-${Math.random()}.db`));
  try {
    await materialize(repo, store, { start: new Date(0), end: new Date(endMs) });
    return await store.read('user_stats', userKeys());
  } finally {
    await store.close();
    await repo.close();
  }
}

export function userKeys(): { user_id: number }[] {
  return Array.from({ length: USERS }, (_, u) => ({ user_id: u }));
}

/** Reads the fleet's online rows until they equal `want` or `timeoutMs` passes; returns the last read. */
export async function waitForRows(
  redisUrl: string,
  want: readonly (OnlineRecord | null)[],
  timeoutMs = 40_000,
): Promise<(OnlineRecord | null)[]> {
  const store = await RedisOnlineStore.open({ url: redisUrl, project: 'fleet' });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await store.read('user_stats', userKeys());
      if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > deadline) return got;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await store.close();
  }
}

/** A `strata stream` child process with its stdout kept. */
export interface Consumer {
  readonly child: ChildProcess;
  out(): string;
  /** Resolves with stdout once the process exits. */
  exited: Promise<string>;
}

export function startConsumer(dir: string, redisUrl: string, natsUrl: string | undefined, id: string): Consumer {
  const child = startStrata([
    'stream',
    dir,
    '--store',
    'redis',
    '--redis-url',
    redisUrl,
    ...(natsUrl ? ['--nats-url', natsUrl] : []),
    '--lease-ms',
    String(LEASE_MS),
    '--checkpoint-ms',
    '200',
    '--id',
    id,
  ]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<string>((resolve) => child.on('close', () => resolve(out + err)));
  return { child, out: () => out, exited };
}

export async function startServe(dir: string, redisUrl: string, natsUrl: string | undefined) {
  return startServer([
    'serve',
    dir,
    '--port',
    '0',
    '--store',
    'redis',
    '--redis-url',
    redisUrl,
    ...(natsUrl ? ['--nats-url', natsUrl] : []),
  ]);
}

/** Waits until `pred(stdout)` holds. */
export async function waitFor(c: Consumer, pred: (out: string) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred(c.out())) {
    if (Date.now() > deadline) throw new Error(`timed out; consumer output:\n${c.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Partitions a consumer owns now, from its acquired / released / lost lines. */
export function owned(out: string): Set<number> {
  const s = new Set<number>();
  for (const m of out.matchAll(/partition (\d+) (acquired|released|lost)/g)) {
    if (m[2] === 'acquired') s.add(Number(m[1]));
    else s.delete(Number(m[1]));
  }
  return s;
}

export async function stopConsumer(c: Consumer): Promise<number> {
  c.child.kill('SIGTERM');
  const out = await c.exited;
  const m = /applied (\d+) events/.exec(out);
  if (!m) throw new Error(`consumer did not stop cleanly:\n${out}`);
  return Number(m[1]);
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'strata-fleet-'));
}

export async function writeRepo(dir: string, yaml: string): Promise<void> {
  await writeFile(join(dir, 'strata.yaml'), yaml);
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
