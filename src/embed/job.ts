import { availableParallelism } from 'node:os';
import { ImageCell, VideoCell } from '../dataset/cells.js';
import type { Dataset } from '../dataset/dataset.js';
import { StrataError, isStrataError } from '../errors.js';
import type { EmbedOptions, EmbedSummary } from './job-options.js';
import { BufferPool, WorkerPool } from './job-infer.js';
import { loadModel } from './job-model.js';
import {
  chooseOutput, newLineage, POOLINGS, withFailures,
  type EmbedFailure, type EmbeddingLineage, type LineageIdentity,
} from './lineage.js';
import type { EmbeddingModel } from './model.js';
import { RateMeter, runPipeline, type EmbeddedSample, type PipelineStats, type PreparedSample } from './pipeline.js';
import { itemDims, resizeForModel, toTensor, validatePreprocess, type Preprocess, type PreprocessOptions } from './preprocess.js';
import { checkFrames, l2normalize, pool, videoFrames, type JobFrames } from './video.js';

export type { EmbedOptions, EmbedProgress, EmbedSummary } from './job-options.js';

/** Errors that mean "this sample is bad" (recorded and skipped) rather than "the job cannot go on". */
const SAMPLE_ERRORS = new Set(['CORRUPT', 'UNSUPPORTED', 'INVALID_ARGUMENT']);

/**
 * Computes an embedding column for an image or video column with an ONNX model: storage reads,
 * decode/resize and inference overlap (see runPipeline); vectors are appended to `output` and
 * committed every `commitEveryBatches` batches with lineage in the column metadata. Re-running
 * computes only rows the column does not have yet (killed jobs resume; a finished one is a no-op).
 */
export async function embed(ds: Dataset, options: EmbedOptions): Promise<EmbedSummary> {
  const t0 = performance.now();
  const column = options.column;
  if (ds.length !== ds.core.manifest.length) {
    throw new StrataError('INVALID_ARGUMENT', `embed() runs on a whole dataset, not a view of ${ds.uri}`, { uri: ds.uri, hint: 'call it on the dataset itself' });
  }
  if (ds.core.hasPendingChanges) {
    throw new StrataError('INVALID_ARGUMENT', `${ds.uri} has uncommitted changes; embed() commits as it goes and would publish them`, {
      uri: ds.uri, hint: 'commit() or rollback() first',
    });
  }
  const spec = ds.schema[column] ?? ds.core.spec(column);
  const isVideo = spec.htype === 'video' || (spec.htype === 'link' && spec.target === 'video');
  if (!(isVideo || spec.htype === 'image' || spec.htype === 'link')) {
    throw new StrataError('UNSUPPORTED', `embed() reads image or video columns; ${column} is ${spec.htype}`, {
      column, field: 'column', hint: 'pick an image, video or link column',
    });
  }
  const pooling = isVideo ? (options.pooling ?? 'mean') : null;
  if (pooling !== null && !POOLINGS.includes(pooling)) {
    throw new StrataError('INVALID_ARGUMENT', `pooling '${pooling}' is not supported`, { field: 'pooling', hint: `use one of ${POOLINGS.join(', ')}` });
  }
  const frames: JobFrames | null = isVideo ? checkFrames(options.frames ?? { count: 8 }) : null;
  const commitEvery = positiveInt(options.commitEveryBatches ?? 10, 'commitEveryBatches');

  const { model, uri, sha256, bytes } = await loadModel(options.model, options);
  let worker: Promise<WorkerPool> | undefined;
  try {
    const pre = validatePreprocess(withModelSize(options.preprocess ?? {}, model), model.inputShape);
    const batchSize = positiveInt(options.batchSize ?? model.fixedBatch ?? 32, 'batchSize');
    const dims = itemDims(pre);
    const itemFloats = dims.reduce((a, b) => a * b, 1);
    const dim = model.outputDim ?? (await model.run(new Float32Array(itemFloats), 1, dims)).length;
    const identity: LineageIdentity = {
      sourceColumn: column,
      model: { sha256, inputName: model.inputName, outputName: model.outputName },
      preprocess: pre, normalize: options.normalize ?? false, frames, pooling,
    };
    const known = (name: string) => (ds.core.manifest.columns.some((c) => c.name === name) ? ds.columnMeta(name) : undefined);
    const choice = chooseOutput(options.output ?? 'embedding', identity, known, options.onLineageMismatch ?? 'error', ds.uri);
    const out = choice.column;
    const perFrame = pooling === 'none';
    const tsColumn = perFrame ? `${out}_timestamps` : undefined;
    let lineage: EmbeddingLineage = choice.existing ?? newLineage(identity, { uri, inputDims: model.inputShape.dims, dim, timestampsColumn: tsColumn });
    const resumedFrom = choice.existing ? ds.core.columnManifest(out).length : 0;
    const total = ds.length - resumedFrom;
    // rows appended to the dataset after the job last ran were padded with null in this column by
    // append(); a job can only append, so they stay null (reported, not silently skipped)
    const unembedded = choice.existing ? Math.max(0, resumedFrom - (choice.existing.rowsWritten ?? resumedFrom)) : 0;
    if (unembedded > 0) {
      (options.onWarning ?? ((m: string, code: string) => process.emitWarning(m, { code })))(
        `${unembedded} rows of ${out} (rows ${choice.existing!.rowsWritten}..${resumedFrom - 1}) were appended after embed() last ran and hold null; ` +
        `embed() appends only, so it cannot fill them: embed into a new output column to cover every row`, 'STRATA_EMBED_UNFILLED');
    }
    const base = { column: out, resumedFrom, dim, unembedded };
    if (choice.existing && total <= 0) {
      const seconds = (performance.now() - t0) / 1000;
      return {
        ...base, version: ds.version, noop: true, processed: 0, embedded: 0, empty: 0, failures: [], seconds, imagesPerSecond: 0, lineage,
        stageSeconds: { setup: seconds, infer: 0, starved: 0, write: 0 },
      };
    }
    if (!choice.existing) {
      if (perFrame) {
        ds.addColumn(out, { htype: 'generic', dtype: 'float32', shape: [-1, dim] });
        ds.addColumn(tsColumn!, { htype: 'generic', dtype: 'float64', shape: [-1] });
      } else ds.addColumn(out, { htype: 'embedding', dim });
      ds.setColumnMeta(out, { lineage });
    }

    const runFailures: EmbedFailure[] = [];
    let pendingFailures: EmbedFailure[] = [];
    let embedded = 0;
    let empty = 0;
    let batches = 0;
    let commits = 0;
    let committedRows = resumedFrom;
    let written = resumedFrom;
    const meter = new RateMeter(total);
    const commit = async (): Promise<void> => {
      if (written === committedRows && (choice.existing || commits > 0)) return;
      commits++;
      lineage = withFailures(lineage, pendingFailures, written);
      pendingFailures = [];
      ds.setColumnMeta(out, { lineage });
      await ds.commit(`embed ${column} → ${out}: rows ${committedRows}..${written}`);
      committedRows = written;
    };

    const write = async (samples: EmbeddedSample[]): Promise<void> => {
      const values: unknown[] = [];
      const times: unknown[] = [];
      for (const s of samples) {
        let value: unknown = null;
        let failure = s.failure;
        if (!failure && !s.empty) {
          const vs = s.vectors.map((v) => (identity.normalize ? l2normalize(v) : v));
          if (vs.some((v) => v.length !== dim || !v.every(Number.isFinite))) failure = `model output is not ${dim} finite numbers`;
          else if (perFrame) value = { data: concat(vs, dim), shape: [vs.length, dim] };
          else value = vs.length === 1 ? vs[0] : pool(vs, pooling as 'mean' | 'max');
          if (value instanceof Float32Array && identity.normalize && vs.length > 1) l2normalize(value);
        }
        if (failure) {
          if (options.strict) {
            throw new StrataError('CORRUPT', `row ${s.row} of ${column} cannot be embedded: ${failure}`, {
              row: s.row, column, uri: ds.uri, hint: 'fix or remove the sample, or run without strict to record it and store null',
            });
          }
          const f = { row: s.row, reason: failure };
          runFailures.push(f);
          pendingFailures.push(f);
          value = null;
        } else if (s.empty) empty++;
        else embedded++;
        values.push(value);
        times.push(value === null ? null : { data: Float64Array.from(s.timestamps ?? []), shape: [s.timestamps?.length ?? 0] });
      }
      await ds.appendToColumn(out, values);
      if (tsColumn) await ds.appendToColumn(tsColumn, times);
      written += samples.length;
      if (++batches % commitEvery === 0) await commit();
      const p = meter.add(samples.length);
      options.onProgress?.({ phase: 'embed', ...p, committedRows, failed: runFailures.length });
    };

    const workers = positiveInt(options.inferenceWorkers ?? Math.min(2, availableParallelism()), 'inferenceWorkers');
    const buffers = new BufferPool(2 * workers + 2);
    if (bytes && model.fixedBatch === undefined && (options.inferenceWorker ?? true)) {
      // the worker loads its session while the first batch is read and decoded
      worker = WorkerPool.start(bytes, {
        inputName: model.inputName, outputName: model.outputName, uri, workers, buffers,
        intraOpThreads: options.intraOpThreads ?? Math.max(1, Math.floor(availableParallelism() / workers)), spinning: options.ortSpinning,
      });
      worker.catch(() => undefined);
    }
    const w = worker;
    const infer = w
      ? async (batch: Float32Array, n: number) => (await w).run(batch, n, dims)
      : (batch: Float32Array, n: number) => model.run(batch, n, dims);
    let stats: PipelineStats;
    const tRun = performance.now();
    try {
      stats = await runPipeline({
        source: cells(ds, column, resumedFrom, options.signal),
        prepare: (item) => prepareSample(item, pre, frames, options.signal),
        concurrency: positiveInt(options.decodeConcurrency ?? Math.max(2, availableParallelism()), 'decodeConcurrency'),
        concurrencyWhileInferring: options.decodeWhileInferring,
        window: positiveInt(options.queueSamples ?? 3 * batchSize, 'queueSamples'),
        batchSize, itemFloats, batchesInFlight: (worker ? workers : 1) + 1,
        allocate: worker ? (floats) => buffers.take(floats) : undefined,
        pack: (items, out) => void toTensor(items, pre, out),
        infer,
        write,
        signal: options.signal,
      });
      await commit();
    } catch (err) {
      await ds.rollback();
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      ...base, version: ds.version, noop: false, processed: written - resumedFrom, embedded, empty,
      failures: runFailures, seconds, imagesPerSecond: (written - resumedFrom) / seconds, lineage,
      stageSeconds: { setup: (tRun - t0) / 1000, infer: stats.inferMs / 1000, starved: stats.starvedMs / 1000, write: stats.writeMs / 1000 },
    };
  } finally {
    if (worker) await (await worker.catch(() => undefined))?.close();
    await model.close();
  }
}

interface SourceItem {
  readonly row: number;
  readonly cell: unknown;
}

async function* cells(ds: Dataset, column: string, start: number, signal?: AbortSignal): AsyncGenerator<SourceItem> {
  let row = start;
  for await (const batch of ds.slice(start).select([column]).iterRows({ batchSize: 256, signal })) {
    for (const r of batch) yield { row: row++, cell: r[column] };
  }
}

/** Read + decode + resize + pack one sample; decode errors become a recorded failure. */
async function prepareSample(item: SourceItem, pre: Preprocess, frames: JobFrames | null, signal?: AbortSignal): Promise<PreparedSample> {
  const { row, cell } = item;
  if (cell === null || cell === undefined) return { row, items: [], empty: true };
  try {
    if (cell instanceof VideoCell) {
      const v = await videoFrames(cell, frames ?? { count: 8 }, pre);
      return { row, items: v.items, timestamps: v.timestamps };
    }
    if (!(cell instanceof ImageCell)) throw new StrataError('UNSUPPORTED', `row ${row} holds no image`, { row });
    const bytes = await cell.bytes({ signal });
    const px = await resizeForModel(bytes, pre);
    return { row, items: [px] };
  } catch (err) {
    if (isStrataError(err) && SAMPLE_ERRORS.has(err.code)) return { row, items: [], failure: err.message };
    throw err;
  }
}

/** Fills preprocess.size from the model's fixed input H×W when the caller did not give one. */
function withModelSize(options: PreprocessOptions, model: EmbeddingModel): PreprocessOptions {
  if (options.size !== undefined) return options;
  const d = model.inputShape.dims;
  if (d.length !== 4) return options;
  const [h, w] = (options.layout ?? 'NCHW') === 'NCHW' ? [d[2], d[3]] : [d[1], d[2]];
  return h > 0 && w > 0 ? { ...options, size: [h, w] } : options;
}

function concat(vs: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(vs.length * dim);
  vs.forEach((v, i) => out.set(v, i * dim));
  return out;
}

function positiveInt(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 1) throw new StrataError('INVALID_ARGUMENT', `${field} must be a positive integer, got ${v}`, { field });
  return v;
}
