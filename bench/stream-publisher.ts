/**
 * The freshness phase's publisher for bench/stream.ts, in its own process (as `strata serve` publishes
 * in production), so its JetStream publishes do not compete with the consumers for their event loop.
 * Args: NATS URL, stream name, partitions, users, first event index, events/s, seconds. Publishes the
 * bench's events from the first index on at that rate, each stamped with its publish time as event
 * time, and prints one line per batch: `<publish ms> <first index> <count>`.
 */
import type { StreamConfig } from '../src/features/definitions/types.js';
import { JetStreamSource } from '../src/features/stream/jetstream.js';
import { partitionOf } from '../src/features/stream/partitioning.js';

const [natsUrl, name, partitionsArg, usersArg, firstArg, rateArg, secondsArg] = process.argv.slice(2);
const partitions = Number(partitionsArg);
const users = Number(usersArg);
const first = Number(firstArg);
const rate = Number(rateArg);
const config = { name, transport: 'jetstream', partitions, keyField: 'user_id' } as StreamConfig;
const js = await JetStreamSource.open(config, { natsUrl });
const start = Date.now();
let sent = 0;
while (Date.now() - start < Number(secondsArg) * 1000) {
  const due = Math.floor(((Date.now() - start) / 1000) * rate);
  const now = Date.now();
  const batch = [];
  const from = sent;
  for (; sent < due; sent++) {
    const i = first + sent;
    const user_id = (i * 7919) % users;
    batch.push({
      partition: partitionOf(user_id, partitions),
      id: `e${i}`,
      event: { user_id, amount: i % 100, event_timestamp: now, event_id: `e${i}` },
    });
  }
  if (batch.length) {
    await js.publish(batch);
    process.stdout.write(`${now} ${first + from} ${batch.length}\n`);
  }
  await new Promise((res) => setTimeout(res, 20));
}
await js.close();
