/**
 * Partitioned materialization: P = 4 shards run by two processes at once (2 shards each) leave the
 * store exactly as one unsharded run does — rows and the view watermark — on SQLite, Redis and a
 * 3-master Redis Cluster. Shards are disjoint by entity and the watermark waits for every shard.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { materialize, materializeIncremental, shardWatermarkKey, watermarkKey } from '../../src/online/index.js';
import { shardOfEntity } from '../../src/shard.js';
import { KILL_TEST_END, KILL_TEST_START, killTestRepo, seedStore } from './fixtures/kill-data.js';
import { dumpStore, storeKinds } from './stores.js';

const kinds = storeKinds();
const CHILD = fileURLToPath(new URL('./fixtures/materialize-shard-child.ts', import.meta.url));
const VIEWS = ['user_stats', 'user_item'];
const STATE = VIEWS.map(watermarkKey);
const END_MS = String(KILL_TEST_END.getTime());

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`child exited ${code}:\n${out}\n${err}`)),
    );
  });
}

describe.each(kinds)('sharded materialize: $name', (kind) => {
  const maybe = kind.skip ? it.skip : it;

  maybe(
    'P = 4 shards in two processes equal one unsharded run (rows and watermark)',
    async () => {
      const ref = await kind.open();
      await seedStore(ref.store);
      await materialize(killTestRepo(), ref.store, { start: KILL_TEST_START, end: KILL_TEST_END });
      const want = (await dumpStore(ref.store, VIEWS, STATE)) as Record<string, unknown[]>;
      await ref.store.close();
      expect(want.user_stats.length).toBeGreaterThan(100);
      expect(want['state:' + STATE[0]]).toBe(END_MS);

      const sharded = await kind.open();
      await seedStore(sharded.store);
      const outs = await Promise.all([
        runChild([...childArgs(kind.childArgs(sharded.id)), '4', '0,2']),
        runChild([...childArgs(kind.childArgs(sharded.id)), '4', '1,3']),
      ]);
      expect(outs.every((o) => o.includes('done'))).toBe(true);
      expect(await dumpStore(sharded.store, VIEWS, STATE)).toEqual(want);
      for (let i = 0; i < 4; i++)
        expect(await sharded.store.getState(shardWatermarkKey('user_stats', { index: i, count: 4 }))).toBe(END_MS);
      await sharded.store.close();
    },
    60_000,
  );

  maybe('shards are disjoint by entity key; the view watermark waits for the last shard', async () => {
    const { store } = await kind.open();
    const counts: number[] = [];
    for (const index of [0, 1, 2]) {
      const r = await materialize(killTestRepo(), store, {
        start: KILL_TEST_START,
        end: KILL_TEST_END,
        shard: { index, count: 4 },
      });
      counts.push(r.views[0].rows);
      expect(await store.getState(watermarkKey('user_stats'))).toBeUndefined();
    }
    const rows: { entityKey: Record<string, unknown> }[] = [];
    for await (const b of store.scan('user_stats')) rows.push(...b);
    expect(rows.length).toBe(counts.reduce((a, b) => a + b, 0));
    expect(rows.every((r) => shardOfEntity(r.entityKey, ['user_id'], 4) !== 3)).toBe(true);
    expect(counts.every((c) => c > 0)).toBe(true);
    // the last shard, incrementally: it starts from the beginning (its own watermark is unset)
    const last = await materializeIncremental(killTestRepo(), store, {
      end: KILL_TEST_END,
      shard: { index: 3, count: 4 },
    });
    expect(last.views[0].rows).toBeGreaterThan(0);
    expect(await store.getState(watermarkKey('user_stats'))).toBe(END_MS);
    // a shard re-run incrementally to the same end does nothing
    const again = await materializeIncremental(killTestRepo(), store, {
      end: KILL_TEST_END,
      shard: { index: 0, count: 4 },
    });
    expect(again.views[0].rows).toBe(0);
    await expect(
      materialize(killTestRepo(), store, { start: KILL_TEST_START, end: KILL_TEST_END, shard: { index: 4, count: 4 } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await store.close();
  });
});

/** The child's `<kind> <target> <project>`: SQLite has no project, so an empty one is passed. */
function childArgs(args: string[]): string[] {
  return args.length === 2 ? [...args, ''] : args;
}
