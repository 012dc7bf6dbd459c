/**
 * A partition's window state: checkpoint → JSON → restore gives the same state (the same values for
 * every later event, bit for bit), replaying already-applied events changes nothing (effectively-once),
 * and the checkpoint keeps only what the views still reach. Stream sources are validated like others.
 */
import { describe, expect, it } from 'vitest';
import { FeatureRepo, defineEntity, defineFeatureView, defineSource } from '../../../src/features/index.js';
import type { StreamRecord } from '../../../src/features/stream/contract.js';
import { partitionOf } from '../../../src/features/stream/partitioning.js';
import { StreamPartition } from '../../../src/features/stream/partition.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const SCHEMA = { user_id: 'int64', amount: 'float64', event_timestamp: 'timestamp', event_id: 'string' } as const;

function defs(extra: Record<string, unknown> = {}) {
  return [
    defineEntity({ name: 'user', joinKeys: ['user_id'] }),
    defineSource({
      name: 'tx',
      kind: 'stream',
      transport: 'redis',
      stream: 'tx',
      partitions: 4,
      keyField: 'user_id',
      idField: 'event_id',
      allowedLateness: '30m',
      schema: SCHEMA,
      ...extra,
    }),
    defineFeatureView({
      name: 'stats',
      entities: ['user'],
      source: 'tx',
      aggregations: [
        { column: 'amount', function: 'sum', window: '1h', name: 'sum_1h' },
        { function: 'count', window: '2h', name: 'n_2h' },
        { column: 'amount', function: 'last', window: '2h', name: 'last_2h' },
      ],
    }),
    defineFeatureView({ name: 'latest', entities: ['user'], source: 'tx', features: ['amount'] }),
  ];
}

/** Events of partition `p` over `hours` hours, a little out of order, with some ids repeated. */
function records(p: number, from: number, n: number, hours: number, offset0: number): StreamRecord[] {
  let s = 7 + from;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const users = Array.from({ length: 40 }, (_, u) => u).filter((u) => partitionOf(u, 4) === p);
  const out: StreamRecord[] = [];
  for (let i = 0; i < n; i++) {
    const t = T0 + from * HOUR + Math.floor((i / n) * hours * HOUR) - Math.floor(rnd() * 20 * 60_000);
    const dup = i > 0 && rnd() < 0.05;
    out.push({
      partition: p,
      offset: String(offset0 + i),
      event: {
        user_id: String(users[Math.floor(rnd() * users.length)]),
        amount: Math.floor(rnd() * 1000) / 4,
        event_timestamp: new Date(t).toISOString(),
        event_id: dup ? `e${from}-${i - 1}` : `e${from}-${i}`,
      },
    });
  }
  return out;
}

describe('stream partition state', () => {
  it('checkpoint → JSON → restore: later events give bit-identical values; replays change nothing', async () => {
    const repo = await FeatureRepo.fromDefinitions(defs());
    const first = records(1, 0, 3000, 10, 1);
    const later = records(1, 10, 500, 1, 5000);
    const live = repo.streamPartition('tx', 1);
    live.apply(first.slice(0, 1500));
    live.apply(first.slice(1500));
    const cp = JSON.parse(JSON.stringify(live.checkpoint())) as ReturnType<StreamPartition['checkpoint']>;
    expect(cp.offset).toBe(first[first.length - 1].offset);
    expect(cp.read).toBe(3000);
    // pruned to the views' reach (2 h + lateness + tiles), plus each entity's latest event for the plain view
    expect(cp.events.length).toBeLessThan(1500);

    const restored = repo.streamPartition('tx', 1);
    restored.restore(cp);
    expect(restored.highWaterMarkMs).toBe(live.highWaterMarkMs);
    // a new owner re-reads events it already has (crash between checkpoint and offset commit): no effect
    const replay = restored.apply(first.slice(2900));
    const replayLive = live.apply(first.slice(2900));
    expect(replay).toEqual(replayLive);
    expect(restored.apply(later)).toEqual(live.apply(later));
    expect(restored.checkpoint()).toEqual(live.checkpoint());
    await repo.close();
  });

  it('a checkpoint restored into another partition is CORRUPT', async () => {
    const repo = await FeatureRepo.fromDefinitions(defs());
    const a = repo.streamPartition('tx', 1);
    a.apply(records(1, 0, 10, 1, 1));
    expect(() => repo.streamPartition('tx', 2).restore(a.checkpoint())).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }) as Error,
    );
    await repo.close();
  });

  it('an event that fails the schema is counted invalid and skipped; the rest of the batch applies', async () => {
    const repo = await FeatureRepo.fromDefinitions(defs());
    const part = repo.streamPartition('tx', 1);
    const [a, b, c] = records(1, 0, 3, 1, 1);
    const bad: StreamRecord = { partition: 1, offset: '2', event: { ...a.event, amount: 'lots', event_id: 'x' } };
    const batch = [
      a,
      bad,
      { ...b, offset: '3', event: { ...b.event, event_id: 'b' } },
      { ...c, offset: '4', event: { ...c.event, event_id: 'c' } },
    ];
    const out = part.apply(batch);
    expect(part.invalid).toBe(1);
    expect(part.read).toBe(4);
    expect(part.offset).toBe('4');
    expect(part.checkpoint().events.map((e) => e.event_id)).toEqual([a.event.event_id, 'b', 'c']);
    expect(out.length).toBeGreaterThan(0);
    await repo.close();
  });

  it('route: the same key (7 and "7") goes to one partition; a bad event is INVALID_ARGUMENT naming the row', async () => {
    const repo = await FeatureRepo.fromDefinitions(defs());
    const src = repo.source('tx');
    const e = { user_id: 7, amount: 1, event_timestamp: T0, event_id: 'a' };
    expect(StreamPartition.route(src, e, 0)).toEqual(StreamPartition.route(src, { ...e, user_id: '7' }, 0));
    expect(() => StreamPartition.route(src, { ...e, event_timestamp: 'soon' }, 3)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        details: expect.objectContaining({ row: 3 }) as object,
      }) as Error,
    );
    expect(() => StreamPartition.route(src, { ...e, event_id: null }, 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
    );
    await repo.close();
  });
});

describe('stream source validation', () => {
  it.each([
    ['transport', { transport: 'kafka' }],
    ['stream', { stream: 'a.b' }],
    ['partitions', { partitions: 0 }],
    ['keyField', { keyField: 'uid' }],
    ['idField', { idField: undefined }],
  ])('a bad %s is INVALID_ARGUMENT naming the field', async (field, extra) => {
    const err = await FeatureRepo.fromDefinitions(defs(extra)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const errors = (err as { details: { errors: { field: string }[] } }).details.errors;
    expect(errors.map((e) => e.field)).toContain(field);
  });

  it('a view over the stream not keyed by its keyField cannot get a partition state', async () => {
    const repo = await FeatureRepo.fromDefinitions([
      ...defs(),
      defineEntity({ name: 'shop', joinKeys: ['amount'] }),
      defineFeatureView({ name: 'by_amount', entities: ['shop'], source: 'tx', features: ['user_id'] }),
    ]);
    expect(() => repo.streamPartition('tx', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    await repo.close();
  });
});
