/**
 * Store factories for the conformance suites: each test gets a fresh store (a new SQLite file, or a
 * new key prefix on the shared real redis-server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { RedisOnlineStore, SqliteOnlineStore, type OnlineStore } from '../../src/online/index.js';
import { REDIS_SKIP, RedisCluster, RedisServer } from '../helpers/redis-server.js';

export interface StoreKind {
  readonly name: 'sqlite' | 'redis' | 'redis-cluster';
  readonly skip: string | false;
  /** Opens a fresh, empty store; `id` reopens the same one. */
  open(id?: string): Promise<{ store: OnlineStore; id: string }>;
  /** `<kind> <path|url> [project]`: how a child process opens the store `id`. */
  childArgs(id: string): string[];
}

let counter = 0;

/** Registers beforeAll/afterAll hooks in the calling file and returns both store kinds. */
export function storeKinds(): StoreKind[] {
  let dir = '';
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-online-'));
    if (!REDIS_SKIP) [redis, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start(3)]);
  });
  afterAll(async () => {
    await redis?.close();
    await cluster?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return [
    {
      name: 'sqlite',
      skip: false,
      async open(id) {
        const name = id ?? `s${process.pid}_${counter++}`;
        return { store: await SqliteOnlineStore.open(join(dir, name, 'online.sqlite')), id: name };
      },
      childArgs: (id) => ['sqlite', join(dir, id, 'online.sqlite')],
    },
    {
      name: 'redis',
      skip: REDIS_SKIP,
      async open(id) {
        if (!redis) throw new Error('redis-server did not start');
        const name = id ?? `p${process.pid}_${counter++}`;
        return { store: await RedisOnlineStore.open({ url: redis.url, project: name }), id: name };
      },
      childArgs: (id) => ['redis', redis?.url ?? '', id],
    },
    {
      name: 'redis-cluster',
      skip: REDIS_SKIP,
      async open(id) {
        if (!cluster) throw new Error('redis cluster did not start');
        const name = id ?? `c${process.pid}_${counter++}`;
        return { store: await RedisOnlineStore.open({ clusterNodes: cluster.urls, project: name }), id: name };
      },
      childArgs: (id) => ['redis-cluster', cluster?.urls.join(',') ?? '', id],
    },
  ];
}

/** All rows of all given views, sorted, for whole-store comparisons. */
export async function dumpStore(
  store: OnlineStore,
  views: readonly string[],
  stateKeys: readonly string[] = [],
): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const v of views) {
    const rows: { key: string; row: unknown }[] = [];
    for await (const batch of store.scan(v))
      for (const r of batch) rows.push({ key: JSON.stringify(r.entityKey), row: r });
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    out[v] = rows.map((r) => r.row);
  }
  for (const k of stateKeys) out[`state:${k}`] = await store.getState(k);
  return out;
}
