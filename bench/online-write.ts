/**
 * Micro-bench of `RedisOnlineStore.write` (standalone Redis): 1000 rows × 4 features (three numbers, one
 * short string) per call, the shape a stream consumer writes. Prints wall µs per row and this process's
 * CPU µs per row (ioredis argument conversion lands there), median over rounds. With
 * `STRATA_BENCH_BASELINE=<checkout>` it also loads `<checkout>/src/online/redis.ts` (for example main's)
 * and interleaves the two stores round by round on the same server.
 * `npx tsx bench/online-write.ts`; needs redis-server.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { RedisOnlineStore } from '../src/online/index.js';
import type { OnlineWriteRow } from '../src/online/store.js';
import { RedisServer } from '../test/helpers/redis-server.js';

const ROWS = 1000;
const ROUNDS = Number(process.env.STRATA_BENCH_ROUNDS ?? 40);

type Store = { write(rows: readonly OnlineWriteRow[]): Promise<unknown>; close(): Promise<void> };

function rowsAt(round: number): OnlineWriteRow[] {
  const rows: OnlineWriteRow[] = [];
  for (let i = 0; i < ROWS; i++) {
    rows.push({
      view: 'user_amounts',
      entityKey: { user_id: (round * 7919 + i) % 5000 },
      eventTimestampMs: 1_767_225_600_000 + round * 1000 + i,
      values: { amount_sum_1h: i * 1.25, amount_count_1h: i, amount_avg_1d: i / 3, last_merchant: `m${i % 97}` },
    });
  }
  return rows;
}

async function timeWrite(store: Store, rows: OnlineWriteRow[]): Promise<[number, number]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await store.write(rows);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [(wall * 1000) / rows.length, (c.user + c.system) / rows.length];
}

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  await using server = await RedisServer.start();
  const stores: [string, Store][] = [['current', await RedisOnlineStore.open({ url: server.url, project: 'cur' })]];
  const base = process.env.STRATA_BENCH_BASELINE;
  if (base) {
    const mod = (await import(pathToFileURL(join(base, 'src/online/redis.ts')).href)) as {
      RedisOnlineStore: { open(o: object): Promise<Store> };
    };
    stores.push(['baseline', await mod.RedisOnlineStore.open({ url: server.url, project: 'base' })]);
  }
  const wall = new Map<string, number[]>(stores.map(([n]) => [n, []]));
  const cpu = new Map<string, number[]>(stores.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS + 3; r++) {
    const rows = rowsAt(r);
    const order = r % 2 === 0 ? stores : stores.slice().reverse();
    for (const [name, store] of order) {
      const [w, c] = await timeWrite(store, rows);
      if (r >= 3) {
        wall.get(name)?.push(w);
        cpu.get(name)?.push(c);
      }
    }
  }
  const out: Record<string, number> = {};
  for (const [name, store] of stores) {
    out[`${name}_write_wall_us_per_row`] = +median(wall.get(name) ?? []).toFixed(2);
    out[`${name}_write_cpu_us_per_row`] = +median(cpu.get(name) ?? []).toFixed(2);
    await store.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
