/**
 * Streaming on a fleet, through NATS JetStream: `stream_events_s` is events/s from the first read to
 * the last online write with two `StreamConsumer`s (one process here, 8 partitions, Redis online
 * store, leases and checkpoints), over events already published; `stream_vs_raw` divides it by the
 * rate of a raw consume loop (8 partition readers, JSON parse, nothing else) over the same stream in
 * the same run. `npm run bench -- stream`; needs nats-server and redis-server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../src/features/index.js';
import { JetStreamSource } from '../src/features/stream/jetstream.js';
import { partitionOf } from '../src/features/stream/partitioning.js';
import { RedisOnlineStore, StreamConsumer } from '../src/online/index.js';
import { NatsServer } from '../test/helpers/nats-server.js';
import { RedisServer } from '../test/helpers/redis-server.js';

const EVENTS = Number(process.env.STRATA_BENCH_STREAM_EVENTS ?? 50_000);
const USERS = 5_000;
const PARTITIONS = 8;
const T0 = Date.UTC(2026, 0, 1);

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
    await js.close();

    // two Strata consumers: read, window state, online writes, checkpoints
    const store = await RedisOnlineStore.open({ url: redis.url, project: 'bench' });
    t = performance.now();
    const consumers = await Promise.all(
      [0, 1].map((i) =>
        StreamConsumer.start(r, store, {
          consumerId: `bench-${i}`,
          redisUrl: redis.url,
          natsUrl: nats.url,
          leaseMs: 2000,
        }),
      ),
    );
    let lastLog = performance.now();
    for (;;) {
      const read = (await Promise.all(consumers.map((c) => c.stats()))).flat().reduce((a, s) => a + s.read, 0);
      if (read >= EVENTS) break;
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        console.error(`consumers: ${read} of ${EVENTS} events read`);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    const strataS = (performance.now() - t) / 1000;
    for (const c of consumers) await c.close();
    await store.close();
    await r.close();

    const figures = {
      events: EVENTS,
      publish_events_s: EVENTS / publishS,
      raw_consume_events_s: EVENTS / rawS,
      stream_events_s: EVENTS / strataS,
      stream_vs_raw: rawS / strataS,
    };
    console.log(
      [
        `events                 ${EVENTS} (${USERS} users, ${PARTITIONS} partitions, JetStream + Redis)`,
        `publish                ${Math.round(figures.publish_events_s)} events/s`,
        `raw consume loop       ${Math.round(figures.raw_consume_events_s)} events/s`,
        `two stream consumers   ${Math.round(figures.stream_events_s)} events/s (ratio ${figures.stream_vs_raw.toFixed(2)})`,
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
