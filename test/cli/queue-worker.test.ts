/**
 * `strata worker` over a BullMQ queue on a real redis-server, as child processes: 40 embed shard tasks,
 * enqueued twice, run by two workers; one worker is SIGKILLed mid-task and its task is run again by the
 * other (stalled-job detection). The embedding column equals a single-process `strata embed`, every
 * task finishes exactly once, and `strata job status --json` reports the fleet's progress.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { sampleImages, tinyModel, type TinyModel } from '../embed/fixtures/data.js';
import { REDIS_SKIP, RedisServer } from '../helpers/redis-server.js';
import { collect } from '../helpers/child-process.js';
import { generateSampleData } from '../../datasets/generate.js';
import { SqliteOnlineStore, watermarkKey } from '../../src/online/index.js';
import { dumpStore } from '../online/stores.js';
import { errorCode, startStrata, strata } from './run-cli.js';
import { eventRepoYaml, makeEventRepo } from './fixtures/event-repo.js';

const TASKS = 40;
const suite = REDIS_SKIP ? describe.skip : describe;

let dir: string;
let model: TinyModel;
let redis: RedisServer;

async function makeDataset(name: string): Promise<string> {
  const uri = join(dir, name);
  const images = await sampleImages(TASKS, 3);
  const ds = await Dataset.create(uri, { schema: { image: 'image' } });
  await ds.append(images.map((image) => ({ image })));
  await ds.commit();
  await ds.close();
  return uri;
}

async function embeddings(uri: string): Promise<unknown[]> {
  const ds = await Dataset.open(uri);
  try {
    return (await ds.values('embedding')).map((v) => (v === null ? null : Array.from(v as Float32Array)));
  } finally {
    await ds.close();
  }
}

interface Worker {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The worker's JSON event lines so far. */
  events(): { event: string; task?: string }[];
}

function startWorker(): Worker {
  const child = startStrata([
    'worker',
    '--queue',
    redis.url,
    '--lock-duration-ms',
    '2000',
    '--stalled-interval-ms',
    '500',
  ]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = collect(child, 120_000);
  return {
    child,
    done,
    events: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; task?: string }),
  };
}

async function until(ok: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  if (REDIS_SKIP) return;
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-queue-'));
  model = await tinyModel(dir, 'tiny', { seed: 7, inputSize: 32, dim: 8 });
  redis = await RedisServer.start();
}, 60_000);
afterAll(async () => {
  await redis?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

suite('strata worker (BullMQ on redis-server)', () => {
  it('2 workers, 40 tasks enqueued twice, one worker SIGKILLed mid-task: each task done once, column equals one process', async () => {
    const ref = await makeDataset('ref.strata');
    const queued = await makeDataset('queued.strata');
    const args = (uri: string) => ['embed', uri, '--column', 'image', '--model', model.path, '--workers', '1'];
    const single = await strata([...args(ref), '-q']);
    expect(single.code, single.stderr).toBe(0);

    const enqueue = () => strata([...args(queued), '--queue', redis.url, '--shards', String(TASKS), '--json']);
    const first = await enqueue();
    expect(first.code, first.stderr).toBe(0);
    const added = JSON.parse(first.stdout) as { jobId: string; tasks: number; added: number };
    expect(added).toMatchObject({ tasks: TASKS, added: TASKS });
    const second = await enqueue();
    expect(JSON.parse(second.stdout)).toEqual({ ...added, added: 0 });

    const a = startWorker();
    const b = startWorker();
    // Kill worker A in its first task (cold: it loads the embedding code and the model), which B then runs again.
    await until(() => a.events().some((e) => e.event === 'start'), 'worker A to start a task');
    a.child.kill('SIGKILL');
    await a.done;
    const aStarted = a
      .events()
      .filter((e) => e.event === 'start')
      .map((e) => e.task);
    const aDone = a
      .events()
      .filter((e) => e.event === 'done')
      .map((e) => e.task);
    const killed = aStarted.at(-1)!;
    expect(aDone).not.toContain(killed);

    const status = await strata(
      ['job', 'status', added.jobId, '--queue', redis.url, '--wait', '--json', '--poll-interval-ms', '100'],
      {
        timeoutMs: 90_000,
      },
    );
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      jobId: added.jobId,
      command: 'embed',
      tasks: TASKS,
      done: TASKS,
      running: 0,
      failed: 0,
      waiting: 0,
    });
    // One run per task, plus the killed task's second run.
    expect(s.runs).toBe(TASKS + 1);
    expect(s.rows).toBeGreaterThanOrEqual(TASKS - 1);
    expect(s.rows).toBeLessThanOrEqual(TASKS);

    // Enqueuing the finished job again adds nothing and runs nothing.
    const third = await enqueue();
    expect(JSON.parse(third.stdout)).toMatchObject({ added: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    const again = await strata(['job', 'status', added.jobId, '--queue', redis.url, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ done: TASKS, runs: TASKS + 1 });

    b.child.kill('SIGTERM');
    const bEnd = await b.done;
    expect(bEnd.code, bEnd.stderr).toBe(0);
    const bDone = b
      .events()
      .filter((e) => e.event === 'done')
      .map((e) => e.task);
    expect(bDone).toContain(killed);
    const allDone = [...aDone, ...bDone].sort();
    expect(allDone).toHaveLength(TASKS);
    expect(new Set(allDone).size).toBe(TASKS);

    expect(await embeddings(queued)).toEqual(await embeddings(ref));
  }, 120_000);

  it('a failing task is retried with backoff, then failed: job status counts it, lists the error and exits 1', async () => {
    const uri = await makeDataset('failing.strata');
    const w = startWorker();
    const enq = await strata([
      ...['embed', uri, '--column', 'image', '--model', join(dir, 'missing.onnx')],
      ...['--queue', redis.url, '--shards', '2', '--attempts', '3', '--backoff-ms', '50', '--job-id', 'failing'],
    ]);
    expect(enq.code, enq.stderr).toBe(0);
    const st = await strata(['job', 'status', 'failing', '--queue', redis.url, '--wait', '--json']);
    expect(st.code).toBe(1);
    const s = JSON.parse(st.stdout) as { failures: { task: string; error: string }[] } & Record<string, unknown>;
    expect(s).toMatchObject({ tasks: 2, done: 0, failed: 2, waiting: 0, running: 0, runs: 6 });
    expect(s.failures.map((f) => f.task).sort()).toEqual(['failing/0', 'failing/1']);
    expect(s.failures[0].error).toContain('missing.onnx');
    w.child.kill('SIGTERM');
    expect((await w.done).code).toBe(0);
    expect(w.events().filter((e) => e.event === 'failed')).toHaveLength(6);
  }, 60_000);

  it('SIGTERM during a task: the worker finishes it, takes no other, exits 0', async () => {
    const uri = await makeDataset('graceful.strata');
    const enq = await strata([
      ...['embed', uri, '--column', 'image', '--model', model.path, '--workers', '1'],
      ...['--queue', redis.url, '--shards', '2', '--job-id', 'graceful'],
    ]);
    expect(enq.code, enq.stderr).toBe(0);
    const w = startWorker();
    await until(() => w.events().some((e) => e.event === 'start'), 'the worker to start a task');
    w.child.kill('SIGTERM');
    const end = await w.done;
    expect(end.code, end.stderr).toBe(0);
    const started = w.events().filter((e) => e.event === 'start');
    expect(started).toHaveLength(1);
    expect(
      w
        .events()
        .filter((e) => e.event === 'done')
        .map((e) => e.task),
    ).toEqual([started[0].task]);
    const st = await strata(['job', 'status', 'graceful', '--queue', redis.url, '--json']);
    expect(JSON.parse(st.stdout)).toMatchObject({ tasks: 2, done: 1, waiting: 1, running: 0, runs: 1 });
  }, 60_000);

  it('job status of an unknown job: NOT_FOUND; --queue without --shards: INVALID_ARGUMENT', async () => {
    const st = await strata(['job', 'status', 'nope', '--queue', redis.url]);
    expect(st.code).toBe(1);
    expect(errorCode(st.stderr)).toBe('NOT_FOUND');
    const bad = await strata([
      'embed',
      join(dir, 'x.strata'),
      '--column',
      'image',
      '--model',
      model.path,
      '--queue',
      redis.url,
    ]);
    expect(bad.code).toBe(2);
    expect(errorCode(bad.stderr)).toBe('INVALID_ARGUMENT');
  }, 60_000);
});

suite('strata materialize --queue (BullMQ on redis-server)', () => {
  const VIEWS = ['user_activity', 'user_last'];
  const RANGE = ['--start', '2024-01-01T00:00:00Z', '--end', '2024-01-04T00:00:00Z'];
  beforeAll(async () => {
    await generateSampleData(join(dir, 'sample'), { images: 4, videos: 0, events: 600 });
  }, 60_000);

  it('4 tasks of a relative repo path, --job-id, one worker elsewhere with --max-tasks: the store equals one run', async () => {
    const ref = await makeEventRepo(join(dir, 'mat_ref'), join(dir, 'sample'), eventRepoYaml('mat_ref'));
    await makeEventRepo(join(dir, 'mat_q'), join(dir, 'sample'), eventRepoYaml('mat_q'));
    const single = await strata(['materialize', ref, ...RANGE, '-q']);
    expect(single.code, single.stderr).toBe(0);
    // a queue of its own: tasks other tests left waiting in the default queue are not this worker's
    const own = ['--queue-name', 'materialize-test'];
    const q = [
      'materialize',
      'mat_q',
      ...RANGE,
      '--queue',
      redis.url,
      ...own,
      '--shards',
      '4',
      '--job-id',
      'mat-q',
      '--json',
    ];
    const enq = await strata(q, { cwd: dir });
    expect(enq.code, enq.stderr).toBe(0);
    expect(JSON.parse(enq.stdout)).toEqual({ jobId: 'mat-q', queue: 'materialize-test', tasks: 4, added: 4 });
    const w = await strata(['worker', '--queue', redis.url, ...own, '--max-tasks', '4', '-q']);
    expect(w.code, w.stderr).toBe(0);
    const st = await strata(['job', 'status', 'mat-q', '--queue', redis.url, ...own, '--json']);
    const s = JSON.parse(st.stdout) as Record<string, number>;
    expect(s).toMatchObject({ tasks: 4, done: 4, failed: 0, waiting: 0, running: 0, runs: 4 });
    expect(s.rows).toBeGreaterThan(0);
    const open = (name: string) => SqliteOnlineStore.open(join(dir, name, '.strata', 'online.sqlite'));
    const [a, b] = [await open('mat_ref'), await open('mat_q')];
    try {
      const state = VIEWS.map(watermarkKey);
      expect(await dumpStore(b, VIEWS, state)).toEqual(await dumpStore(a, VIEWS, state));
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);
});
