/**
 * Streaming on a fleet, through NATS JetStream: `stream_events_s` is events/s from the start of two
 * `StreamConsumer`s (one process here, 8 partitions, Redis online store, leases and checkpoints) to
 * every partition's events read and applied, over events already published; `stream_vs_raw` divides
 * it by the rate of a raw consume loop (8 partition readers, JSON parse, nothing else) over the same
 * stream in the same run. `reference_vs_raw`: the same for a minimal hand-written pair of consumers
 * (decode, a running sum per user, one pipelined HSET per touched user per step), the ceiling a real
 * consumer can approach on this machine. `freshness_p99_ms`: then, with the consumers caught up, a
 * publisher in its own process (bench/stream-publisher.ts) publishes at half of `stream_events_s`
 * for `STRATA_BENCH_STREAM_FRESHNESS_S` seconds (default 10), each event stamped with its publish time
 * as event time; an event's freshness is the time the online write covering it (the first write of
 * its user's row with an event time at or after its own) completed minus its publish time; p99 over
 * all events. `applied_twice`: events applied more than once (replays after takeovers).
 * `npm run bench -- stream`; needs nats-server and redis-server. STRATA_BENCH_DEBUG=1 logs partition
 * moves; STRATA_BENCH_STREAM_BATCH sets the consumers' batchEvents.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../src/features/index.js';
import { JetStreamSource } from '../src/features/stream/jetstream.js';
import { partitionOf } from '../src/features/stream/partitioning.js';
import { RedisOnlineStore, StreamConsumer, type OnlineStore, type OnlineWriteRow } from '../src/online/index.js';
import { NatsServer } from '../test/helpers/nats-server.js';
import { RedisServer } from '../test/helpers/redis-server.js';

const EVENTS = Number(process.env.STRATA_BENCH_STREAM_EVENTS ?? 50_000);
const USERS = 5_000;
const PARTITIONS = 8;
const T0 = Date.UTC(2026, 0, 1);
const FRESHNESS_S = Number(process.env.STRATA_BENCH_STREAM_FRESHNESS_S ?? 10);

/**
 * Every completed write of a user's row (its event time, when it completed), recorded by the store
 * wrapper `watch(store)`; `published(user, ms)` notes an event published at `ms` (stamped with it as
 * event time). An event's freshness is the completion time of the first write of its user's row with
 * an event time at or after its own, minus its publish time; computed at the end, so the order in
 * which the publisher's reports and the writes arrive does not matter.
 */
class FreshnessProbe {
  readonly #writes = new Map<number, { ts: number[]; done: number[] }>();
  readonly #published: [number, number][] = [];
  readonly #newestPublished = new Map<number, number>();

  published(userId: number, publishMs: number): void {
    this.#published.push([userId, publishMs]);
    this.#newestPublished.set(userId, Math.max(publishMs, this.#newestPublished.get(userId) ?? 0));
  }

  /** Users with a published event not covered by a write yet. */
  get outstanding(): number {
    let n = 0;
    for (const [u, ms] of this.#newestPublished) {
      const w = this.#writes.get(u);
      if (!w || w.ts[w.ts.length - 1] < ms) n++;
    }
    return n;
  }

  latencies(): { latenciesMs: number[]; missing: number } {
    const latenciesMs: number[] = [];
    let missing = 0;
    for (const [u, ms] of this.#published) {
      const w = this.#writes.get(u);
      let lo = 0;
      let hi = w?.ts.length ?? 0;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (w!.ts[mid] < ms) lo = mid + 1;
        else hi = mid;
      }
      if (!w || lo === w.ts.length) missing++;
      else latenciesMs.push(w.done[lo] - ms);
    }
    return { latenciesMs: latenciesMs.sort((a, b) => a - b), missing };
  }

  #written(rows: readonly OnlineWriteRow[], doneMs: number): void {
    for (const r of rows) {
      const u = Number(r.entityKey.user_id);
      let w = this.#writes.get(u);
      if (!w) this.#writes.set(u, (w = { ts: [], done: [] }));
      // keep the event times non-decreasing (a write never lowers a row's event time)
      if (w.ts.length && r.eventTimestampMs <= w.ts[w.ts.length - 1]) continue;
      w.ts.push(r.eventTimestampMs);
      w.done.push(doneMs);
    }
  }

  watch(store: OnlineStore): OnlineStore {
    return new Proxy(store, {
      get: (target, prop) => {
        if (prop === 'write')
          return async (rows: readonly OnlineWriteRow[], options?: { signal?: AbortSignal }) => {
            const res = await target.write(rows, options);
            this.#written(rows, Date.now());
            return res;
          };
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}

function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function repo() {
  return FeatureRepo.fromDefinitions([
    defineEntity({ name: 'user', joinKeys: ['user_id'] }),
    defineSource({
      name: 'tx',
      kind: 'stream',
      transport: 'jetstream',
      stream: 'bench',
      partitions: PARTITIONS,
      keyField: 'user_id',
      idField: 'event_id',
      allowedLateness: '1h',
      schema: { user_id: 'int64', amount: 'float64', event_timestamp: 'timestamp', event_id: 'string' },
    }),
    defineFeatureView({
      name: 'user_stats',
      entities: ['user'],
      source: 'tx',
      aggregations: [
        { column: 'amount', function: 'sum', window: '1h', name: 'amount_sum_1h' },
        { function: 'count', window: '1d', name: 'tx_count_1d' },
      ],
    }),
  ]);
}

export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-stream-'));
  const nats = await NatsServer.start();
  const redis = await RedisServer.start();
  try {
    const r = await repo();
    const cfg = r.source('tx').stream!;
    const js = await JetStreamSource.open(cfg, { natsUrl: nats.url });
    const events = Array.from({ length: EVENTS }, (_, i) => {
      const user_id = (i * 7919) % USERS;
      return {
        partition: partitionOf(user_id, PARTITIONS),
        id: `e${i}`,
        event: { user_id, amount: i % 100, event_timestamp: T0 + i * 10, event_id: `e${i}` },
      };
    });
    let t = performance.now();
    for (let i = 0; i < events.length; i += 1000) await js.publish(events.slice(i, i + 1000));
    const publishS = (performance.now() - t) / 1000;
    console.error(`published ${EVENTS} events`);

    // raw consume loop over the same stream
    t = performance.now();
    const readers = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => js.reader(p, null)));
    let n = 0;
    while (n < EVENTS) {
      let got = 0;
      for (const rd of readers) got += (await rd.next(1000)).length;
      n += got;
      if (!got) await new Promise((res) => setTimeout(res, 1));
    }
    const rawS = (performance.now() - t) / 1000;
    console.error('raw consume loop done');
    for (const rd of readers) await rd.close();

    // reference: the least a consumer must do — two consumers (own NATS and Redis connections), 4
    // partitions each, every event decoded, a running sum and count per user, one pipelined HSET per
    // touched user per step; no validation, windows, leases or checkpoints
    t = performance.now();
    await Promise.all(
      [0, 1].map(async (c) => {
        const src = await JetStreamSource.open(cfg, { natsUrl: nats.url });
        const client = new Redis(redis.url);
        const rds = await Promise.all([0, 1, 2, 3].map((k) => src.reader(c * 4 + k, null)));
        const sums = new Map<number, [number, number]>();
        let done = 0;
        const mine = events.filter((e) => e.partition >= c * 4 && e.partition < c * 4 + 4).length;
        while (done < mine) {
          const touched = new Set<number>();
          for (const rd of rds) {
            for (const { event } of await rd.next(1000)) {
              const u = Number(event.user_id);
              const s = sums.get(u) ?? [0, 0];
              s[0] += Number(event.amount);
              s[1]++;
              sums.set(u, s);
              touched.add(u);
              done++;
            }
          }
          if (!touched.size) {
            await new Promise((res) => setTimeout(res, 1));
            continue;
          }
          const pl = client.pipeline();
          for (const u of touched) pl.hset(`ref:{${u}}`, 'amount_sum', sums.get(u)![0], 'count', sums.get(u)![1]);
          await pl.exec();
        }
        for (const rd of rds) await rd.close();
        await src.close();
        await client.quit();
      }),
    );
    const refS = (performance.now() - t) / 1000;
    console.error('reference consumers done');

    // two Strata consumers: read, window state, online writes, checkpoints
    const probe = new FreshnessProbe();
    const realStore = await RedisOnlineStore.open({ url: redis.url, project: 'bench' });
    const store = probe.watch(realStore);
    t = performance.now();
    const consumers = await Promise.all(
      [0, 1].map((i) =>
        StreamConsumer.start(r, store, {
          consumerId: `bench-${i}`,
          redisUrl: redis.url,
          natsUrl: nats.url,
          leaseMs: 2000,
          ...(process.env.STRATA_BENCH_STREAM_BATCH
            ? { batchEvents: Number(process.env.STRATA_BENCH_STREAM_BATCH) }
            : {}),
          onEvent: (e) => {
            if (e.type === 'error') console.error(`consumer bench-${i}:`, e.error);
            else if (process.env.STRATA_BENCH_DEBUG)
              console.error(`[debug] ${Math.round(performance.now() - t)} ms bench-${i}: ${JSON.stringify(e)}`);
          },
        }),
      ),
    );
    let lastLog = performance.now();
    for (;;) {
      // events read per partition by its current owner (a replay after a takeover or a partition
      // briefly held by both consumers is not counted twice); stats() would also ask JetStream
      const perPartition = new Map<number, number>();
      for (const c of consumers)
        for (const [p, n] of c.readByPartition) perPartition.set(p, Math.max(n, perPartition.get(p) ?? 0));
      const read = [...perPartition.values()].reduce((a, n) => a + n, 0);
      if (read >= EVENTS) break;
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        console.error(`consumers: ${read} of ${EVENTS} events read`);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    const strataS = (performance.now() - t) / 1000;
    console.error(`consumers: ${EVENTS} events read in ${strataS.toFixed(1)} s`);

    // freshness at half the end-to-end rate, consumers caught up; the publisher runs in its own process
    const rate = EVENTS / strataS / 2;
    const child = spawn(
      process.execPath,
      [
        '--import',
        new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href,
        fileURLToPath(new URL('./stream-publisher.ts', import.meta.url)),
        nats.url,
        cfg.name,
        String(PARTITIONS),
        String(USERS),
        String(EVENTS),
        String(rate),
        String(FRESHNESS_S),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let sent = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const [ms, from, count] = line.split(' ').map(Number);
      for (let i = from; i < from + count; i++) probe.published((i * 7919) % USERS, ms);
      sent += count;
    }
    const code = await new Promise<number | null>((res) =>
      child.exitCode !== null ? res(child.exitCode) : child.once('exit', res),
    );
    if (code !== 0) throw new Error(`the freshness publisher exited with ${code}`);
    console.error(`freshness: ${sent} events published at ${Math.round(rate)} events/s`);
    const drainUntil = Date.now() + 60_000;
    lastLog = performance.now();
    while (probe.outstanding > 0 && Date.now() < drainUntil) {
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        console.error(`freshness: ${probe.outstanding} users with events not written online yet`);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    const { latenciesMs: latencies, missing } = probe.latencies();
    if (missing > 0) console.error(`freshness: ${missing} events never written online`);
    await js.close();
    for (const c of consumers) await c.close();
    // events applied more than once: replays after takeovers, or a partition briefly held by both
    const appliedTwice = consumers.reduce((a, c) => a + c.applied, 0) - EVENTS - sent;
    await realStore.close();
    await r.close();

    const figures = {
      events: EVENTS,
      publish_events_s: EVENTS / publishS,
      raw_consume_events_s: EVENTS / rawS,
      stream_events_s: EVENTS / strataS,
      stream_vs_raw: rawS / strataS,
      reference_events_s: EVENTS / refS,
      reference_vs_raw: rawS / refS,
      applied_twice: appliedTwice,
      freshness_rate_events_s: rate,
      freshness_events: latencies.length,
      freshness_p50_ms: percentile(latencies, 0.5),
      freshness_p99_ms: percentile(latencies, 0.99),
    };
    console.log(
      [
        `events                 ${EVENTS} (${USERS} users, ${PARTITIONS} partitions, JetStream + Redis)`,
        `publish                ${Math.round(figures.publish_events_s)} events/s`,
        `raw consume loop       ${Math.round(figures.raw_consume_events_s)} events/s`,
        `reference consumers    ${Math.round(figures.reference_events_s)} events/s (ratio ${figures.reference_vs_raw.toFixed(2)}: decode + sum + pipelined HSET only)`,
        `two stream consumers   ${Math.round(figures.stream_events_s)} events/s (ratio ${figures.stream_vs_raw.toFixed(2)}; ${appliedTwice} events applied twice)`,
        `freshness              p50 ${figures.freshness_p50_ms} ms, p99 ${figures.freshness_p99_ms} ms (${latencies.length} events at ${Math.round(rate)} events/s for ${FRESHNESS_S} s)`,
      ].join('\n'),
    );
    const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
    console.log(JSON.stringify(rounded));
    return rounded;
  } finally {
    await redis.close();
    await nats.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
