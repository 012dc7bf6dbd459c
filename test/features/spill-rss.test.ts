/**
 * Backfill in bounded memory, measured from a child process (bench/backfill-child.ts): an 8 M-event
 * Arrow IPC source (~160 MB of columns) backfilled under a memoryLimitBytes of 16 MiB is split into
 * many partitions, gives the tiles the in-memory run gives, and its peak RSS above an idle child's
 * stays far below the in-memory run's and within a fixed multiple of the limit (the multiple covers
 * V8 collecting a partition's garbage late; it does not grow with the source). The same for
 * `latestValues` (what materialize writes): same entities and values, bounded peak RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfillChild } from '../../bench/backfill-child-process.js';
import { writeEventFiles } from '../../datasets/events.js';
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
/** A limit the 8 M events fit in whole (the default 512 MiB spills them). */
const WHOLE = String(4 * 2 ** 30);

const child = (kind: string, file: string, limit: string, job: 'backfill' | 'latest' = 'backfill') =>
  runBackfillChild(kind, file, limit, childEnv(), job);

let written: Promise<string> | undefined;
/** The 8 M-event Arrow IPC file (written once for both tests). */
function eventsFile(): Promise<string> {
  written ??= (async () => {
    const file = path.join(dir, 'events.arrows');
    await writeEventFiles({ events: EVENTS, entities: 1_000, arrow: file });
    return file;
  })();
  return written;
}

/**
 * The idle, in-memory and spilled children of one job: the spilled run gives the in-memory run's
 * results, and its peak RSS above the idle child stays far below the in-memory run's and within 16×
 * the limit.
 */
async function runBounded(job: 'backfill' | 'latest') {
  const file = await eventsFile();
  const idle = await child('idle', 'none', 'default');
  const whole = await child('arrow', file, WHOLE, job);
  const spilled = await child('arrow', file, String(LIMIT), job);
  expect(whole.partitions).toBe(1);
  expect(spilled.partitions).toBeGreaterThanOrEqual(8);
  expect([spilled.tiles, spilled.count, spilled.sum]).toEqual([whole.tiles, whole.count, whole.sum]);
  const wholeBytes = whole.maxRssBytes - idle.maxRssBytes;
  const spilledBytes = spilled.maxRssBytes - idle.maxRssBytes;
  // the source's columns alone are 160 MB; in memory the engine holds them and more
  expect(wholeBytes).toBeGreaterThan(160 << 20);
  expect(spilledBytes).toBeLessThan(wholeBytes / 2);
  expect(spilledBytes).toBeLessThan(16 * LIMIT);
  return { whole, spilled };
}

describe('backfill larger than memory', () => {
  it('peak RSS follows memoryLimitBytes, not the source size; tiles are unchanged', async () => {
    const { spilled } = await runBounded('backfill');
    expect(spilled.count).toBe(EVENTS);
  }, 600_000);

  it('latestValues (materialize) peak RSS follows memoryLimitBytes; values are unchanged', async () => {
    // the child sums each entity's values in entity order
    const { whole } = await runBounded('latest');
    expect(whole.tiles).toBe(1_000);
    expect(whole.count).toBe(EVENTS);
  }, 600_000);
});
