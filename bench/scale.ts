/**
 * Scale-out benchmark (issue 20): what sharding costs, per shard.
 * - `shard_overhead`: images/s of 2 embed() shards run one after the other over the same images /
 *   images/s of one unsharded job (same run, rounds interleaved, median of the rounds). Target ≥ 0.95.
 *   Each of the two measurements of a round starts cold (closeInferenceCache(): no inference workers
 *   or model metadata from earlier jobs), so both pay one process's first start; the second shard
 *   reuses the first one's workers.
 *   `shard_fixed_s`: the extra seconds of the 2 shards over the one job (a job's fixed cost: model
 *   sessions, their first runs, planning), which decides how small a shard can be.
 * - `commit_ms_per_shard`: 64 shards, each its own Dataset handle and S3 client, fill their own
 *   fragment of one embedding column and commit at the same moment into one dataset on the loopback
 *   S3 server (the commit path of a sharded embed: fillRows + commit); the median commit wall time,
 *   rebases included. `conflicts`: commits that failed with CONFLICT (target 0).
 * - `queue_task_overhead_ms`: per shard, the wall time of `strata embed --queue ... --shards 8` plus one
 *   in-process `strata worker --max-tasks 8` over a local redis-server, minus the same 8 shards run
 *   directly (`strata embed --shard i/8`, one after the other): BullMQ dispatch, the task's lock and
 *   its result, on top of the shard's own work and commit.
 * `npx tsx bench/scale.ts [--quick]`; a table, then one JSON line last.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { buildMobileNetV2Like, writeModel } from '../datasets/models/onnx-builder.js';
import { Dataset } from '../src/dataset/dataset.js';
import { isStrataError } from '../src/errors.js';
import { embed } from '../src/embed/job.js';
import { closeInferenceCache } from '../src/embed/inference-cache.js';
import { configureSharp } from '../src/media/image.js';
import { makeJpeg } from '../test/helpers/media.js';
import { startS3Server } from '../test/helpers/s3-server.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { runCli } from '../src/cli/run.js';

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const median = (a: readonly number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];

/** images/s of one unsharded job vs 2 shards one after the other, `rounds` interleaved rounds. */
async function shardOverhead(dir: string, count: number, rounds: number) {
  const images: Uint8Array[] = [];
  for (let i = 0; i < count; i++) images.push(await makeJpeg({ width: 640, height: 480, seed: i + 1, quality: 85 }));
  const uri = join(dir, 'images');
  const ds = await Dataset.create(uri, { schema: { image: 'image' } });
  // fragments of 25 images (one commit each, as an ingest with commitEveryRows 25 makes them)
  for (let i = 0; i < count; i += 25) {
    await ds.append(images.slice(i, i + 25).map((image) => ({ image })));
    await ds.commit('images');
  }
  const { bytes } = buildMobileNetV2Like({ seed: 1 });
  const model = join(dir, 'model.onnx');
  await writeModel(model, bytes);
  const whole: number[] = [];
  const sharded: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // each measurement starts as a fresh process would: no inference workers or model metadata left
    // by the previous one (so the 2 shards pay one cold start, like the one job; the second shard
    // reuses the first one's workers, which is what a process running shard after shard gets)
    await closeInferenceCache();
    let t0 = performance.now();
    const s = await embed(ds, { column: 'image', model, output: `whole_${r}` });
    whole.push(s.processed / ((performance.now() - t0) / 1000));
    await closeInferenceCache();
    t0 = performance.now();
    let processed = 0;
    for (const index of [0, 1])
      processed += (await embed(ds, { column: 'image', model, output: `sharded_${r}`, shard: { index, count: 2 } }))
        .processed;
    sharded.push(processed / ((performance.now() - t0) / 1000));
    console.log(
      `round ${r + 1}: unsharded ${fmt(whole[r], 1)} images/s, 2 shards in a row ${fmt(sharded[r], 1)} images/s (${processed} images)`,
    );
  }
  // same vectors either way
  const a = await ds.values('whole_0');
  const b = await ds.values('sharded_0');
  const bytesOf = (v: unknown) => {
    const f = v as Float32Array;
    return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  };
  if (!a.every((v, i) => bytesOf(v).equals(bytesOf(b[i]))))
    throw new Error('sharded vectors differ from the unsharded ones');
  await ds.close();
  const ratios = whole.map((w, i) => sharded[i] / w);
  // the second shard's extra wall time over one job: what one more job costs regardless of its size
  const extra = whole.map((w, i) => count / sharded[i] - count / w);
  return { whole: median(whole), sharded: median(sharded), overhead: median(ratios), extraS: median(extra) };
}

/** 64 shards commit fills of their own fragment at once into one dataset on the loopback S3 server. */
async function shardCommits(shards: number, rowsPerFragment: number) {
  const server = await startS3Server();
  const options = { s3: { ...server.s3Options, retryBaseDelayMs: 5 } };
  try {
    const uri = server.uri('scale');
    const ds = await Dataset.create(uri, { ...options, schema: { id: 'int32' } });
    for (let f = 0; f < shards; f++) {
      await ds.append(Array.from({ length: rowsPerFragment }, (_, k) => ({ id: f * rowsPerFragment + k })));
      await ds.commit(`fragment ${f}`);
    }
    ds.addColumn('vec', { htype: 'embedding', dim: 64 });
    await ds.commit('column');
    await ds.close();
    const handles = await Promise.all(Array.from({ length: shards }, () => Dataset.open(uri, options)));
    for (const [i, h] of handles.entries()) {
      const vectors = Array.from({ length: rowsPerFragment }, (_, k) => new Float32Array(64).fill(i + k / 100));
      await h.fillRows('vec', i * rowsPerFragment, vectors);
    }
    const times: number[] = [];
    let conflicts = 0;
    const t0 = performance.now();
    await Promise.all(
      handles.map(async (h, i) => {
        const t = performance.now();
        try {
          await h.commit(`shard ${i}/${shards}`);
          times.push(performance.now() - t);
        } catch (err) {
          if (isStrataError(err, 'CONFLICT')) conflicts++;
          else throw err;
        }
      }),
    );
    const wallMs = performance.now() - t0;
    await Promise.all(handles.map((h) => h.close()));
    const check = await Dataset.open(uri, options);
    const filled = (await check.values('vec')).filter((v) => v !== null).length;
    await check.close();
    if (filled !== (shards - conflicts) * rowsPerFragment) throw new Error(`${filled} rows filled`);
    return { median: median(times), max: Math.max(...times), wallMs, conflicts };
  } finally {
    await server.stop();
  }
}

/** 8 embed shards run directly, then the same 8 through the queue and one in-process worker. */
async function queueOverhead(dir: string, tasks: number) {
  const uri = join(dir, 'images');
  const model = join(dir, 'model.onnx');
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const cli = async (args: string[]) => {
    const code = await runCli(args, { stdout: sink, stderr: sink });
    if (code !== 0) throw new Error(`strata ${args.join(' ')} exited with ${code}`);
  };
  const base = ['embed', uri, '--column', 'image', '--model', model, '-q'];
  let t0 = performance.now();
  for (let i = 0; i < tasks; i++) await cli([...base, '--output', 'q_direct', '--shard', `${i}/${tasks}`]);
  const directMs = performance.now() - t0;
  const redis = await RedisServer.start();
  try {
    t0 = performance.now();
    await cli([...base, '--output', 'q_queued', '--queue', redis.url, '--shards', String(tasks)]);
    await cli(['worker', '--queue', redis.url, '--max-tasks', String(tasks), '-q']);
    const queuedMs = performance.now() - t0;
    const ds = await Dataset.open(uri);
    const [a, b] = [await ds.values('q_direct'), await ds.values('q_queued')];
    await ds.close();
    if (b.some((v) => v === null) || a.length !== b.length) throw new Error('the queued job left rows unembedded');
    return { directMs, queuedMs, perTaskMs: (queuedMs - directMs) / tasks };
  } finally {
    await redis.close();
  }
}

export async function run(): Promise<Record<string, number>> {
  const quick = process.argv.includes('--quick');
  const count = Number(process.env.SCALE_BENCH_IMAGES ?? (quick ? 100 : 300));
  const rounds = quick ? 1 : 3;
  configureSharp();
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-scale-'));
  try {
    console.log(
      `scale bench: ${count} JPEGs 640×480 → MobileNetV2-like 224×224, ${availableParallelism()} cores, load average ${fmt(loadavg()[0])} (other processes share these cores)`,
    );
    const o = await shardOverhead(dir, count, rounds);
    const c = await shardCommits(64, 16);
    const q = await queueOverhead(dir, 8);
    console.log('\n| figure | value | target |');
    console.log('|---|---|---|');
    console.log(`| images/s, one unsharded job (median of ${rounds}) | ${fmt(o.whole, 1)} | |`);
    console.log(`| images/s, 2 shards one after the other | ${fmt(o.sharded, 1)} | |`);
    console.log(`| shard_overhead (sharded / unsharded, median of rounds) | ${fmt(o.overhead, 3)} | ≥ 0.95 |`);
    console.log(
      `| shard_fixed_s: extra seconds of 2 shards over one job (one more job's setup) | ${fmt(o.extraS)} | |`,
    );
    console.log(`| commit_ms_per_shard (64 shards at once, S3 loopback, median) | ${fmt(c.median, 1)} | |`);
    console.log(`| commit ms, slowest shard | ${fmt(c.max, 1)} | |`);
    console.log(`| all 64 commits, wall ms | ${fmt(c.wallMs, 1)} | |`);
    console.log(`| conflicts | ${c.conflicts} | 0 |`);
    console.log(`| 8 shards run directly, one after the other, ms | ${fmt(q.directMs, 0)} | |`);
    console.log(`| the same 8 shards enqueued and run by one worker, ms | ${fmt(q.queuedMs, 0)} | |`);
    console.log(`| queue_task_overhead_ms (per shard) | ${fmt(q.perTaskMs, 1)} | |`);
    return {
      images_per_s_unsharded: o.whole,
      images_per_s_sharded: o.sharded,
      shard_overhead: o.overhead,
      shard_fixed_s: o.extraS,
      commit_ms_per_shard: c.median,
      commit_ms_max: c.max,
      commit_wall_ms_64: c.wallMs,
      conflicts: c.conflicts,
      queue_task_overhead_ms: q.perTaskMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (f) => console.log(JSON.stringify({ area: 'scale', ...f })),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
