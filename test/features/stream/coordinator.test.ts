/**
 * Leases and checkpoints on a real redis-server: one owner per partition, a dead owner's lease
 * expires, a consumer that lost its lease cannot overwrite the new owner's checkpoint (fenced write),
 * and the fair share splits P partitions over the live members.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamCoordinator } from '../../../src/features/stream/coordinator.js';
import type { PartitionCheckpoint } from '../../../src/features/stream/partition.js';
import { REDIS_SKIP, RedisServer } from '../../helpers/redis-server.js';

const cp = (partition: number, offset: string): PartitionCheckpoint => ({
  source: 'tx',
  partition,
  offset,
  read: Number(offset),
  invalid: 0,
  dropped: 0,
  duplicates: 0,
  highWaterMarkMs: null,
  events: [],
});

describe.skipIf(Boolean(REDIS_SKIP))('stream coordinator', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('checkpoint deltas append to the log; a delta over the wrong count is refused as stale; a non-owner is fenced', async () => {
    const a = await StreamCoordinator.open('delta', 'a', { redisUrl: redis.url, leaseMs: 5000 });
    const b = await StreamCoordinator.open('delta', 'b', { redisUrl: redis.url, leaseMs: 5000 });
    expect(await a.acquire(1)).toBe(true);
    const ev = (id: string) => ({ user_id: 1, event_id: id });
    expect(await a.saveDelta({ checkpoint: cp(1, '2'), from: -1, events: [ev('a'), ev('b')] })).toBe('saved');
    expect(await a.saveDelta({ checkpoint: cp(1, '3'), from: 2, events: [ev('c')] })).toBe('saved');
    expect(await a.saveDelta({ checkpoint: cp(1, '3'), from: 3, events: [] })).toBe('saved');
    const loaded = await b.load(1);
    expect(loaded?.offset).toBe('3');
    expect(loaded?.events.map((e) => e.event_id)).toEqual(['a', 'b', 'c']);
    // a delta that does not extend what the log holds (a save whose reply was lost) changes nothing
    expect(await a.saveDelta({ checkpoint: cp(1, '9'), from: 2, events: [ev('c')] })).toBe('stale');
    expect(await b.saveDelta({ checkpoint: cp(1, '9'), from: -1, events: [] })).toBe('lost');
    expect((await b.load(1))?.events.map((e) => e.event_id)).toEqual(['a', 'b', 'c']);
    // a whole checkpoint replaces the log
    expect(await a.save({ ...cp(1, '4'), events: [ev('d')] })).toBe(true);
    expect((await b.load(1))?.events.map((e) => e.event_id)).toEqual(['d']);
    await a.release(1);
    await a.close();
    await b.close();
  });

  it('one owner at a time; after the lease lapses another takes over and the old owner is fenced out', async () => {
    const a = await StreamCoordinator.open('fence', 'a', { redisUrl: redis.url, leaseMs: 300 });
    const b = await StreamCoordinator.open('fence', 'b', { redisUrl: redis.url, leaseMs: 300 });
    expect(await a.acquire(0)).toBe(true);
    expect(await b.acquire(0)).toBe(false);
    expect(await a.save(cp(0, '5'))).toBe(true);
    expect(await b.save(cp(0, '6'))).toBe(false);
    expect((await b.load(0))?.offset).toBe('5');
    // a stops renewing (as a killed process does)
    let taken = false;
    for (let i = 0; i < 100 && !taken; i++) {
      await new Promise((r) => setTimeout(r, 50));
      taken = await b.acquire(0);
    }
    expect(taken).toBe(true);
    expect(await a.renew(0)).toBe(false);
    expect(await a.save(cp(0, '7'))).toBe(false);
    expect(await b.save(cp(0, '8'))).toBe(true);
    expect((await a.load(0))?.offset).toBe('8');
    await a.release(0); // not a's: no effect
    expect(await a.owner(0)).toBe('b');
    await b.release(0);
    expect(await a.owner(0)).toBeNull();
    await a.close();
    await b.close();
  });

  it('fair share: 8 partitions over 3 live members are 3 + 3 + 2; a member that stops heartbeating drops out', async () => {
    const cs = await Promise.all(
      ['c1', 'c2', 'c3'].map((id) => StreamCoordinator.open('share', id, { redisUrl: redis.url, leaseMs: 300 })),
    );
    for (const c of cs) await c.heartbeat();
    const members = await cs[0].heartbeat();
    expect(members).toEqual(['c1', 'c2', 'c3']);
    expect(cs.map((c) => c.fairShare(members, 8))).toEqual([3, 3, 2]);
    let live = members;
    for (let i = 0; i < 100 && live.length > 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await cs[1].heartbeat();
      live = await cs[0].heartbeat();
    }
    expect(live).toEqual(['c1', 'c2']);
    expect(cs[0].fairShare(live, 8) + cs[1].fairShare(live, 8)).toBe(8);
    for (const c of cs) await c.close();
  });

  it('a checkpoint that is not JSON is CORRUPT naming the key', async () => {
    const c = await StreamCoordinator.open('bad', 'x', { redisUrl: redis.url });
    await c.client.set('strata-stream:bad:ckpt:3', '{nope');
    await expect(c.load(3)).rejects.toMatchObject({ code: 'CORRUPT', details: { key: 'strata-stream:bad:ckpt:3' } });
    await c.close();
  });
});
