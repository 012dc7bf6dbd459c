import { availableParallelism } from 'node:os';
import { ImageCell, VideoCell } from '../dataset/cells.js';
import type { Dataset } from '../dataset/dataset.js';
import { StrataError, isStrataError } from '../errors.js';
import type { EmbedOptions, EmbedSummary } from './job-options.js';
import { openJobModel } from './job-session.js';
import { acquirePool, type PoolLease } from './inference-cache.js';
import { embedTextColumn } from './job-text.js';
import { prepareOutput } from './job-prepare.js';
import { overRanges } from './job-shard.js';
import { cells, imageBytes, type SourceItem } from './job-source.js';
import { checkShard } from '../shard.js';
import { POOLINGS, type LineageIdentity } from './lineage.js';
import { commitCadence, noopSummary, OutputWriter, positiveInt } from './job-output.js';
import type { TensorInfo } from './model.js';
import { runPipeline, type PipelineStats, type PreparedSample } from './pipeline.js';
import {
  itemDims,
  resizeForModel,
  toTensor,
  validatePreprocess,
  type Preprocess,
  type PreprocessOptions,
} from './preprocess.js';
import { checkFrames, videoFrames, type JobFrames } from './video.js';

export type { EmbedOptions, EmbedSummary } from './job-options.js';

/**
 * Images (or frames) per model run when neither the caller nor the model fixes it. Small on purpose:
 * on CPU, a convolutional net's per-image cost grows with the batch once its activations outgrow
 * the core's cache (MobileNetV2-sized model at 224×224, one single-thread session: 3.9 ms/img at
 * batch 2–4, 4.4 at 8, 5.9 at 32), and two sessions already keep the cores busy.
 */
export const DEFAULT_IMAGE_BATCH = 4;

/** How long an embed job's inference workers stay up for the next job in this process (EmbedOptions.sessionIdleMs). */
export const DEFAULT_SESSION_IDLE_MS = 10_000;

/** Errors that mean "this sample is bad" (recorded and skipped) rather than "the job cannot go on". */
const SAMPLE_ERRORS = new Set(['CORRUPT', 'UNSUPPORTED', 'INVALID_ARGUMENT']);

/**
 * Computes an embedding column for an image or video column (or a text column with a tokenizer,
 * see embedTextColumn) with an ONNX model: storage reads,
 * decode/resize and inference overlap (see runPipeline); vectors are stored in `output` for the rows
 * that have none and committed every ~10 s (commitIntervalMs, or every `commitEveryBatches` batches)
 * with lineage in the column metadata. Re-running computes only rows the column does not have yet
 * (killed jobs resume; a finished one is a no-op). With `shard`, only that shard's fragments (see
 * EmbedOptions.shard and docs/SCALING.md).
 */
export async function embed(ds: Dataset, options: EmbedOptions): Promise<EmbedSummary> {
  const t0 = performance.now();
  const column = options.column;
  if (ds.length !== ds.versionInfo.length) {
    throw new StrataError('INVALID_ARGUMENT', `embed() runs on a whole dataset, not a view of ${ds.uri}`, {
      uri: ds.uri,
      hint: 'call it on the dataset itself',
    });
  }
  if (ds.hasPendingChanges) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `${ds.uri} has uncommitted changes; embed() commits as it goes and would publish them`,
      {
        uri: ds.uri,
        hint: 'commit() or rollback() first',
      },
    );
  }
  const spec = ds.schema[column] ?? ds.columnInfo(column).spec;
  const jobId = options.jobId;
  const shard =
    options.shard !== undefined ? checkShard(options.shard) : jobId !== undefined ? { index: 0, count: 1 } : undefined;
  if (spec.htype === 'text') {
    if (shard)
      throw new StrataError('UNSUPPORTED', `embed() does not shard text columns yet (${column} is text)`, {
        column,
        field: 'shard',
        hint: 'run the text embedding as one job',
      });
    return embedTextColumn(ds, options, t0);
  }
  const isVideo = spec.htype === 'video' || (spec.htype === 'link' && spec.target === 'video');
  if (!(isVideo || spec.htype === 'image' || spec.htype === 'link')) {
    throw new StrataError('UNSUPPORTED', `embed() reads image, video or text columns; ${column} is ${spec.htype}`, {
      column,
      field: 'column',
      hint: 'pick an image, video, link or text column',
    });
  }
  const pooling = isVideo ? (options.pooling ?? 'mean') : null;
  if (pooling !== null && !POOLINGS.includes(pooling)) {
    throw new StrataError('INVALID_ARGUMENT', `pooling '${pooling}' is not supported`, {
      field: 'pooling',
      hint: `use one of ${POOLINGS.join(', ')}`,
    });
  }
  const frames: JobFrames | null = isVideo ? checkFrames(options.frames ?? { count: 8 }) : null;
  const cadence = commitCadence(options);
  const workers = positiveInt(options.inferenceWorkers ?? Math.min(2, availableParallelism()), 'inferenceWorkers');
  const decodeConcurrency = positiveInt(
    options.decodeConcurrency ?? Math.max(2, availableParallelism()),
    'decodeConcurrency',
  );

  const jm = await openJobModel(options.model, options);
  const { meta, uri, sha256, bytes } = jm;
  const providers = meta.executionProviders;
  let lease: PoolLease | undefined;
  try {
    const pre = validatePreprocess(withModelSize(options.preprocess ?? {}, meta), meta.inputShape);
    // CPU inference gains nothing per image from batches past ~8 and larger ones push activations out
    // of cache beside the decoders (interleaved A/B, 600 JPEGs, 2 cores: batch 32 was ~6% slower).
    const batchSize = positiveInt(options.batchSize ?? meta.fixedBatch ?? DEFAULT_IMAGE_BATCH, 'batchSize');
    const queueSamples = positiveInt(options.queueSamples ?? 3 * batchSize, 'queueSamples');
    const dims = itemDims(pre);
    const itemFloats = dims.reduce((a, b) => a * b, 1);
    let dim = meta.outputDim;
    if (dim === undefined) {
      dim = (await (await jm.model()).run(new Float32Array(itemFloats), 1, dims)).length;
      jm.rememberDim(dim);
    }
    const identity: LineageIdentity = {
      sourceColumn: column,
      model: { sha256, inputName: meta.inputName, outputName: meta.outputName },
      preprocess: pre,
      normalize: options.normalize ?? false,
      frames,
      pooling,
    };
    const plan = await prepareOutput(ds, identity, options, { uri, inputDims: meta.inputShape.dims, dim }, shard);
    const extra = { ...(shard ? { shard } : {}), ...(providers ? { executionProviders: providers } : {}) };
    if (jobId !== undefined && shard && (await ds.isStaged(jobId, shard, options)))
      return { ...noopSummary(ds, plan, dim, t0), ...extra, staged: 'exists' };
    if (plan.existing && plan.total <= 0) {
      // a staged job's shard with nothing to do still records that it is done
      const staged =
        jobId !== undefined && shard
          ? await ds.stage(`embed ${column} → ${plan.column} (shard ${shard.index}/${shard.count}): nothing to do`, {
              jobId,
              shard,
              signal: options.signal,
            })
          : undefined;
      return { ...noopSummary(ds, plan, dim, t0), ...extra, ...(staged ? { staged } : {}) };
    }
    const writer = new OutputWriter(ds, plan, identity, dim, options, cadence);

    if (bytes && meta.fixedBatch === undefined && (options.inferenceWorker ?? true)) {
      // the workers load their sessions while the first batch is read and decoded; a pool an earlier
      // job of this process left (same model and settings) is reused at once (inference-cache.ts)
      lease = acquirePool(
        bytes,
        {
          sha256,
          inputName: meta.inputName,
          outputName: meta.outputName,
          uri,
          workers,
          // one slot per batch in flight (see batchesInFlight below), plus one
          slotCount: workers + 2,
          slotFloats: batchSize * itemFloats,
          intraOpThreads: options.intraOpThreads ?? Math.max(1, Math.floor(availableParallelism() / workers)),
          spinning: options.ortSpinning,
          executionProviders: providers,
        },
        nonNegative(options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS, 'sessionIdleMs'),
      );
      lease.pool.catch(() => undefined);
      // the workers run the model from here on; the main thread's session would hold the weights
      // (and its buffers) once more for the whole job
      await jm.close();
    }
    const slots = lease?.slots;
    const main = lease ? undefined : await jm.model();
    const pool = lease?.pool;
    const infer = pool
      ? async (batch: Float32Array, n: number) => (await pool).run(batch, n, dims)
      : (batch: Float32Array, n: number) => main!.run(batch, n, dims);
    let stats: PipelineStats;
    const tRun = performance.now();
    try {
      stats = await runPipeline({
        source: recordStamps(
          overRanges(plan.todo, (start, end) =>
            spec.htype === 'image'
              ? imageBytes(ds, column, start, end, options.signal)
              : cells(ds, column, start, end, options.signal),
          ),
          writer.knownStamps,
        ),
        prepare: (item) => prepareSample(item, pre, frames, options.signal),
        concurrency: decodeConcurrency,
        concurrencyWhileInferring: options.decodeWhileInferring,
        window: queueSamples,
        batchSize,
        itemFloats,
        batchesInFlight: (lease ? workers : 1) + 1,
        allocate: slots ? (floats) => slots.take(floats) : undefined,
        pack: (items, out) => void toTensor(items, pre, out),
        infer,
        write: (samples) => writer.write(samples),
        signal: options.signal,
      });
      await writer.commit();
    } catch (err) {
      await ds.rollback();
      throw err;
    }
    return {
      ...writer.summary(t0, {
        setup: (tRun - t0) / 1000,
        infer: stats.inferMs / 1000,
        starved: stats.starvedMs / 1000,
        write: stats.writeMs / 1000,
      }),
      ...extra,
      ...(writer.staged ? { staged: writer.staged } : {}),
    };
  } finally {
    await lease?.release();
    await jm.close();
  }
}

function nonNegative(x: number, field: string): number {
  if (Number.isFinite(x) && x >= 0) return x;
  throw new StrataError('INVALID_ARGUMENT', `${field} must be a number ≥ 0, got ${x}`, {
    field,
    hint: 'pass milliseconds, or 0 to close the inference workers with the job',
  });
}

/** The items of `source`, recording the stamps it read (per-row lineage) for the writer. */
async function* recordStamps(
  source: AsyncIterable<SourceItem>,
  stamps: Map<number, string>,
): AsyncGenerator<SourceItem> {
  for await (const item of source) {
    if (item.stamp !== undefined) stamps.set(item.row, item.stamp);
    yield item;
  }
}

/** Read + decode + resize + pack one sample; decode errors and missing linked files become a recorded failure. */
async function prepareSample(
  item: SourceItem,
  pre: Preprocess,
  frames: JobFrames | null,
  signal?: AbortSignal,
): Promise<PreparedSample> {
  const { row, cell } = item;
  if (cell === null || cell === undefined) return { row, items: [], empty: true };
  try {
    if (cell instanceof VideoCell) {
      const v = await videoFrames(cell, frames ?? { count: 8 }, pre);
      return { row, items: v.items, timestamps: v.timestamps };
    }
    let bytes: Uint8Array;
    if (cell instanceof Uint8Array)
      bytes = cell; // from imageBytes
    else if (cell instanceof ImageCell) bytes = await cell.bytes({ signal });
    else throw new StrataError('UNSUPPORTED', `row ${row} holds no image`, { row });
    const px = await resizeForModel(bytes, pre);
    return { row, items: [px] };
  } catch (err) {
    if (isStrataError(err) && SAMPLE_ERRORS.has(err.code)) return { row, items: [], failure: err.message };
    // a linked file that is gone fails its row, like an undecodable one (the job could never get
    // past it otherwise: a re-run resumes at that same row); other storage errors stop the job
    const url = cell instanceof ImageCell || cell instanceof VideoCell ? cell.url : undefined;
    if (url !== undefined && isStrataError(err, 'NOT_FOUND')) {
      return { row, items: [], failure: `linked file ${url} does not exist`, failureCode: 'NOT_FOUND', file: url };
    }
    throw err;
  }
}

/** Fills preprocess.size from the model's fixed input H×W when the caller did not give one. */
export function withModelSize(
  options: PreprocessOptions,
  model: { readonly inputShape: TensorInfo },
): PreprocessOptions {
  if (options.size !== undefined) return options;
  const d = model.inputShape.dims;
  if (d.length !== 4) return options;
  const [h, w] = (options.layout ?? 'NCHW') === 'NCHW' ? [d[2], d[3]] : [d[1], d[2]];
  return h > 0 && w > 0 ? { ...options, size: [h, w] } : options;
}
