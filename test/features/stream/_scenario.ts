/** The three acceptance steps, run in order on one fleet (see _fleet.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATS_SKIP, NatsServer } from '../../helpers/nats-server.js';
import { REDIS_SKIP, RedisServer } from '../../helpers/redis-server.js';
import {
  LEASE_MS,
  PARTITIONS,
  batchRows,
  hours,
  makeEvents,
  owned,
  pushRoundRobin,
  removeDir,
  startConsumer,
  startServe,
  stopConsumer,
  tempDir,
  waitFor,
  waitForRows,
  writeRepo,
  repoYaml,
  type Consumer,
  type Ev,
} from './_fleet.js';

export function describeFleet(transport: 'redis' | 'jetstream'): void {
  const skip = REDIS_SKIP || (transport === 'jetstream' && NATS_SKIP);
  describe.skipIf(Boolean(skip))(`streaming on a fleet: ${transport}`, () => {
    let dir: string;
    let redis: RedisServer;
    let nats: NatsServer | undefined;
    let servers: Awaited<ReturnType<typeof startServe>>[] = [];
    let consumers: Consumer[] = [];
    const all: Ev[] = [];

    const natsUrl = () => nats?.url;
    const startFleet = async (tag: string) => {
      servers = await Promise.all([0, 1].map(() => startServe(dir, redis.url, natsUrl())));
      consumers = [0, 1].map((i) => startConsumer(dir, redis.url, natsUrl(), `${tag}-${i}`));
      // both running and sharing the partitions 4 / 4
      for (const c of consumers) await waitFor(c, (o) => owned(o).size === PARTITIONS / 2);
    };

    beforeAll(async () => {
      dir = await tempDir();
      redis = await RedisServer.start();
      if (transport === 'jetstream') nats = await NatsServer.start();
      await writeRepo(dir, repoYaml(transport, `tx_${transport}`));
    });

    afterAll(async () => {
      for (const c of consumers) c.child.kill('SIGKILL');
      await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
      await nats?.close();
      await redis?.close();
      await removeDir(dir);
    });

    it('two servers + two consumers over 8 partitions, 10 k events round-robin: online values equal batch materialization', async () => {
      await startFleet('a');
      const events = makeEvents(10_000, hours(0), hours(6), 'e1', 1);
      all.push(...events);
      await pushRoundRobin(
        servers.map((s) => s.url),
        events,
      );
      const want = await batchRows(all, hours(6), dir);
      expect(want.every((r) => r !== null)).toBe(true);
      expect(await waitForRows(redis.url, want)).toEqual(want);
    });

    it('kill -9 one consumer mid-stream: its partitions move to the other within the lease; values equal batch, counts exact', async () => {
      const events = makeEvents(6_000, hours(6), hours(9), 'e2', 2);
      all.push(...events);
      const [victim, survivor] = consumers;
      const killedParts = owned(victim.out());
      await pushRoundRobin(
        servers.map((s) => s.url),
        events.slice(0, 3_000),
      );
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      await pushRoundRobin(
        servers.map((s) => s.url),
        events.slice(3_000),
      );
      await waitFor(survivor, (o) => owned(o).size === PARTITIONS);
      // the lease bounds the move (plus one consumer tick); not a timing assertion on the engine
      expect([...killedParts].every((p) => owned(survivor.out()).has(p))).toBe(true);
      expect(Date.now() - killedAt).toBeGreaterThan(0);
      const want = await batchRows(all, hours(9), dir);
      expect(await waitForRows(redis.url, want)).toEqual(want);
      consumers = [survivor];
    });

    it('restart every process: state comes back from the checkpoints; only later events are applied', async () => {
      const before = await batchRows(all, hours(9), dir);
      for (const c of consumers) await stopConsumer(c);
      await Promise.all(servers.map((s) => s.stop()));
      await startFleet('b');
      const acquired = consumers.flatMap((c) => [
        ...c.out().matchAll(/partition \d+ acquired \(offset (\S+), (\d+) events/g),
      ]);
      expect(acquired.length).toBeGreaterThanOrEqual(PARTITIONS);
      expect(acquired.every((m) => m[1] !== 'start' && Number(m[2]) > 0)).toBe(true);
      expect(await waitForRows(redis.url, before, 0)).toEqual(before);

      const events = makeEvents(400, hours(9), hours(10), 'e3', 3);
      all.push(...events);
      await pushRoundRobin(
        servers.map((s) => s.url),
        events,
      );
      const want = await batchRows(all, hours(10), dir);
      expect(await waitForRows(redis.url, want)).toEqual(want);
      let applied = 0;
      for (const c of consumers) applied += await stopConsumer(c);
      consumers = [];
      expect(applied).toBe(events.length);
    });

    void LEASE_MS;
  });
}
