import type { Command } from '../command.js';
import { UsageError, flag, int, integerAtLeast, requireStr, str } from '../command.js';
import { json } from '../format.js';
import { JSON_OPTION, openDataset } from '../open.js';
import { ON_LINEAGE_MISMATCH, POOLINGS, type OnLineageMismatch, type Pooling } from '../../embed/lineage.js';
import { CHANNEL_ORDERS, PREPROCESS_FITS } from '../../embed/preprocess.js';
import { TENSOR_LAYOUTS } from '../../dataset/batches/index.js';
import type { JobFrames } from '../../embed/video.js';
import { loadTokenizer } from '../tokenizer.js';
import { SHARD_OPTIONS, shardOf } from '../shard.js';

export const command: Command = {
  name: 'embed',
  summary:
    'Computes an embedding column for an image, video or text column with an ONNX model (local path or s3:// URI); text needs --tokenizer. Pipelined, committed every few batches, resumable: re-run after an interruption and only the missing rows are computed; re-running with the same model and preprocess does nothing. Lineage (model sha256, preprocess, ...) is stored in the column metadata.',
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: {
    column: { type: 'string', value: 'COL', description: 'image, video, link or text column to embed (required)' },
    model: { type: 'string', value: 'FILE', description: '.onnx model: a path or s3:// URI (required)' },
    output: { type: 'string', value: 'COL', description: 'output column (default embedding)' },
    size: { type: 'string', value: 'N|HxW', description: "model input size (default: the model's fixed input)" },
    fit: { type: 'string', value: 'FIT', description: `${PREPROCESS_FITS.join(' | ')} (default cover)` },
    mean: { type: 'string', value: 'A,B,C', description: 'per-channel mean (default ImageNet); "0" for none' },
    std: { type: 'string', value: 'A,B,C', description: 'per-channel std (default ImageNet); "1" for none' },
    layout: { type: 'string', value: 'L', description: `${TENSOR_LAYOUTS.join(' | ')} (default NCHW)` },
    channels: { type: 'string', value: 'C', description: `${CHANNEL_ORDERS.join(' | ')} (default RGB)` },
    scale: {
      type: 'string',
      value: 'X',
      description: 'pixel scale before mean/std (default 1/255 = 0.00392156862745098)',
      number: {},
    },
    normalize: { type: 'boolean', description: 'L2-normalize vectors' },
    'batch-size': {
      type: 'string',
      value: 'N',
      description: 'images per model run (default 4; text 32)',
      number: integerAtLeast(1),
    },
    frames: {
      type: 'string',
      value: 'N',
      description: 'videos: frames per video, evenly spaced (default 8)',
      number: integerAtLeast(1),
    },
    'every-seconds': {
      type: 'string',
      value: 'S',
      description: 'videos: one frame every S seconds instead of --frames',
      number: { above: 0 },
    },
    pooling: {
      type: 'string',
      value: 'P',
      description: `videos: ${POOLINGS.join(' | ')} (default mean; none = one vector per frame)`,
    },
    'on-mismatch': {
      type: 'string',
      value: 'M',
      description: `output exists with another model/preprocess: ${ON_LINEAGE_MISMATCH.join(' | ')} (default error)`,
    },
    strict: {
      type: 'boolean',
      description: 'fail on the first sample that does not decode (default: record it, store null)',
    },
    'commit-every': {
      type: 'string',
      value: 'BATCHES',
      description: 'commit every N batches (default: by time, see --commit-interval-ms)',
      number: integerAtLeast(1),
    },
    'commit-interval-ms': {
      type: 'string',
      value: 'MS',
      description:
        'commit once MS have passed since the last commit: the most work a kill loses (default 10000; 0: every batch)',
      number: integerAtLeast(0),
    },
    threads: {
      type: 'string',
      value: 'N',
      description: 'ONNX Runtime intra-op threads per session (default: cores / workers)',
      number: integerAtLeast(1),
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'model sessions in worker threads (default 2)',
      number: integerAtLeast(1),
    },
    tokenizer: {
      type: 'string',
      value: 'MODULE',
      description: 'text columns: a .js/.mjs module exporting (text) => token ids (default export or tokenize)',
    },
    'tokenizer-name': {
      type: 'string',
      value: 'NAME',
      description: 'text columns: names the tokenizer in the lineage (default: a hash of its source)',
    },
    'max-tokens': {
      type: 'string',
      value: 'N',
      description: "text columns: longer token sequences are cut (default: the model's, else 512)",
      number: integerAtLeast(1),
    },
    ...SHARD_OPTIONS,
    providers: {
      type: 'string',
      value: 'LIST',
      description:
        'ONNX Runtime execution providers in order of preference, e.g. cuda,cpu (an unavailable one is skipped with a warning; default cpu)',
    },
    json: { ...JSON_OPTION, description: 'print the job summary as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  hintFlags: {
    onLineageMismatch: 'on-mismatch',
    inferenceWorkers: 'workers',
    intraOpThreads: 'threads',
    commitEveryBatches: 'commit-every',
    batchSize: 'batch-size',
  },
  examples: [
    'strata embed ./shapes.strata --column image --model ./models/tiny.onnx --output embedding --size 32 --normalize',
    'strata embed ./clips.strata --column video --model s3://models/clip.onnx --frames 8 --pooling mean',
    'strata embed s3://lake/pets --column image --model s3://models/clip.onnx --shard 3/16 --providers cuda,cpu',
    'strata embed ./captions.strata --column caption --model ./models/text.onnx --tokenizer ./tokenizer.mjs --tokenizer-name wordpiece-v1',
  ],
  async run(ctx) {
    const column = requireStr(ctx, 'column', 'embed');
    const model = requireStr(ctx, 'model', 'embed');
    const pre: Record<string, unknown> = {};
    const size = str(ctx, 'size');
    if (size !== undefined) {
      const m = /^(\d+)(?:x(\d+))?$/.exec(size);
      if (!m) throw new UsageError('strata embed: --size must be N or HxW, e.g. 224 or 224x224', 'embed');
      pre.size = m[2] ? [Number(m[1]), Number(m[2])] : Number(m[1]);
    }
    for (const [opt, allowed] of [
      ['fit', PREPROCESS_FITS],
      ['layout', TENSOR_LAYOUTS],
      ['channels', CHANNEL_ORDERS],
    ] as const) {
      const v = str(ctx, opt);
      if (v === undefined) continue;
      if (!(allowed as readonly string[]).includes(v))
        throw new UsageError(`strata embed: --${opt} must be one of ${allowed.join(', ')}`, 'embed');
      pre[opt] = v;
    }
    for (const opt of ['mean', 'std'] as const) {
      const v = str(ctx, opt);
      if (v !== undefined) pre[opt] = numbers(v, opt);
    }
    if (str(ctx, 'scale') !== undefined) pre.scale = numbers(str(ctx, 'scale')!, 'scale')[0];
    const pooling = str(ctx, 'pooling');
    if (pooling !== undefined && !(POOLINGS as readonly string[]).includes(pooling))
      throw new UsageError(`strata embed: --pooling must be one of ${POOLINGS.join(', ')}`, 'embed');
    const mismatch = str(ctx, 'on-mismatch');
    if (mismatch !== undefined && !(ON_LINEAGE_MISMATCH as readonly string[]).includes(mismatch))
      throw new UsageError(`strata embed: --on-mismatch must be one of ${ON_LINEAGE_MISMATCH.join(', ')}`, 'embed');
    let frames: JobFrames | undefined;
    if (str(ctx, 'every-seconds') !== undefined) {
      const s = numbers(str(ctx, 'every-seconds')!, 'every-seconds')[0];
      frames = { everySeconds: s };
    } else if (str(ctx, 'frames') !== undefined) frames = { count: int(ctx, 'frames', 'embed', 8, 1) };

    const shard = shardOf(ctx);
    const providers = str(ctx, 'providers')
      ?.split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const tokenizerFile = str(ctx, 'tokenizer');
    const tokenizer = tokenizerFile === undefined ? undefined : await loadTokenizer(tokenizerFile);
    const ds = await openDataset(ctx, ctx.positionals[0], 'embed');
    const bar = ctx.progress('embed', 'samples');
    try {
      const { embed } = await import('../../embed/job.js');
      const summary = await embed(ds, {
        column,
        model,
        output: str(ctx, 'output') ?? 'embedding',
        preprocess: pre,
        normalize: flag(ctx, 'normalize'),
        strict: flag(ctx, 'strict'),
        ...(str(ctx, 'batch-size') !== undefined ? { batchSize: int(ctx, 'batch-size', 'embed', 32, 1) } : {}),
        ...(str(ctx, 'commit-every') !== undefined
          ? { commitEveryBatches: int(ctx, 'commit-every', 'embed', 10, 1) }
          : {}),
        ...(str(ctx, 'commit-interval-ms') !== undefined
          ? { commitIntervalMs: int(ctx, 'commit-interval-ms', 'embed', 10_000, 0) }
          : {}),
        ...(str(ctx, 'threads') !== undefined ? { intraOpThreads: int(ctx, 'threads', 'embed', 1, 1) } : {}),
        ...(str(ctx, 'workers') !== undefined ? { inferenceWorkers: int(ctx, 'workers', 'embed', 2, 1) } : {}),
        ...(tokenizer ? { tokenizer } : {}),
        ...(str(ctx, 'tokenizer-name') !== undefined ? { tokenizerName: str(ctx, 'tokenizer-name') } : {}),
        ...(str(ctx, 'max-tokens') !== undefined ? { maxTokens: int(ctx, 'max-tokens', 'embed', 512, 1) } : {}),
        ...(pooling ? { pooling: pooling as Pooling } : {}),
        ...(mismatch ? { onLineageMismatch: mismatch as OnLineageMismatch } : {}),
        ...(frames ? { frames } : {}),
        ...(shard ? { shard } : {}),
        ...(str(ctx, 'job-id') !== undefined ? { jobId: str(ctx, 'job-id') } : {}),
        ...(providers ? { executionProviders: providers } : {}),
        signal: ctx.signal,
        onProgress: (p) => bar.update(p.done, p.total),
      });
      bar.done(summary.noop ? 'nothing to do' : undefined);
      if (flag(ctx, 'json')) {
        ctx.out(json(summary));
        return;
      }
      if (summary.staged !== undefined) {
        const label = `shard ${summary.shard?.index ?? 0}/${summary.shard?.count ?? 1}`;
        ctx.out(
          summary.staged === 'exists'
            ? `${label} of job ${str(ctx, 'job-id')} was staged before; nothing to do`
            : `${label}: staged ${summary.embedded} rows of ${summary.column} for job ${str(ctx, 'job-id')} (not published: run \`strata job commit <uri> ${str(ctx, 'job-id')}\` once every shard is staged)`,
        );
      } else if (summary.noop) {
        ctx.out(
          `${summary.column}: every row already embedded with this model and preprocess (version ${summary.version}); nothing to do`,
        );
      } else {
        ctx.out(
          `${summary.shard ? `shard ${summary.shard.index}/${summary.shard.count}: ` : ''}embedded ${summary.embedded} rows into ${summary.column} (dim ${summary.dim}, version ${summary.version}, ${summary.imagesPerSecond.toFixed(1)} samples/s` +
            `${summary.resumedFrom ? `, resumed after ${summary.resumedFrom}` : ''}${summary.empty ? `, ${summary.empty} empty` : ''})`,
        );
      }
      if (summary.failures.length) {
        ctx.out(`failed ${summary.failures.length} (stored as null):`);
        for (const f of summary.failures.slice(0, 20)) ctx.out(`  row ${f.row}: ${f.reason}`);
      }
    } catch (err) {
      bar.fail();
      throw err;
    } finally {
      await ds.close();
    }
  },
};

function numbers(v: string, opt: string): number[] {
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x)))
    throw new UsageError(`strata embed: --${opt} must be numbers (comma-separated)`, 'embed');
  return xs;
}
