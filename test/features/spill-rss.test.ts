/**
 * Backfill in bounded memory, measured from a child process (bench/backfill-child.ts): an 8 M-event
 * Arrow IPC source (~160 MB of columns) backfilled under a memoryLimitBytes of 16 MiB is split into
 * many partitions, gives the tiles the in-memory run gives, and its peak RSS above an idle child's
 * stays far below the in-memory run's and within a fixed multiple of the limit (the multiple covers
 * V8 collecting a partition's garbage late; it does not grow with the source).
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/child-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strata-spill-rss-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const EVENTS = 8_000_000;
const LIMIT = 16 << 20;

/** `EVENTS` events of 1,000 entities (tiles far fewer than events) over 30 days, as an Arrow IPC stream of 65,536-row batches. */
async function writeArrow(file: string): Promise<void> {
  const out = createWriteStream(file);
  const writer = new A.RecordBatchStreamWriter();
  writer.toNodeStream().pipe(out);
  let s = 7;
  const next = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s;
  };
  for (let at = 0; at < EVENTS; at += 65_536) {
    const n = Math.min(65_536, EVENTS - at);
    const ent = new Int32Array(n);
    const ts = new BigInt64Array(n);
    const val = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ent[i] = next() % 1_000;
      ts[i] = BigInt(Date.UTC(2024, 0, 1) + (next() % (30 * 86_400)) * 1000);
      val[i] = (next() % 10_000) / 4;
    }
    writer.write(
      new A.Table({
        entity_id: A.makeVector(ent),
        event_timestamp: A.makeVector(A.makeData({ type: new A.TimestampMillisecond(), length: n, data: ts })),
        value: A.makeVector(val),
      }).batches[0],
    );
    await new Promise((res) => setImmediate(res));
  }
  writer.finish();
  await finished(out);
}

interface ChildOut {
  tiles: number;
  count: number;
  sum: number;
  partitions: number;
  maxRssBytes: number;
}

async function child(args: string[]): Promise<ChildOut> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.resolve('bench/backfill-child.ts'), ...args],
    { cwd: path.resolve('.'), env: childEnv(), maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildOut;
}

describe('backfill larger than memory', () => {
  it('peak RSS follows memoryLimitBytes, not the source size; tiles are unchanged', async () => {
    const file = path.join(dir, 'events.arrows');
    await writeArrow(file);
    const idle = await child(['idle', 'none']);
    const whole = await child(['arrow', file, 'default']);
    const spilled = await child(['arrow', file, String(LIMIT)]);
    expect(whole.partitions).toBe(1);
    expect(spilled.partitions).toBeGreaterThanOrEqual(8);
    expect(spilled.count).toBe(EVENTS);
    expect([spilled.tiles, spilled.count, spilled.sum]).toEqual([whole.tiles, whole.count, whole.sum]);
    const wholeBytes = whole.maxRssBytes - idle.maxRssBytes;
    const spilledBytes = spilled.maxRssBytes - idle.maxRssBytes;
    // the source's columns alone are 160 MB; in memory the engine holds them and more
    expect(wholeBytes).toBeGreaterThan(160 << 20);
    expect(spilledBytes).toBeLessThan(wholeBytes / 2);
    expect(spilledBytes).toBeLessThan(16 * LIMIT);
  }, 600_000);
});
