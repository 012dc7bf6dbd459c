import type { Dataset } from '../dataset/dataset.js';
import { registerRefresher, type RefreshSummary } from '../dataset/derived/refresh.js';
import { clearHandWrittenValues } from '../dataset/derived/for-jobs.js';
import { StrataError } from '../errors.js';
import type { EmbedOptions, EmbedSummary } from './job-options.js';
import { embed } from './job.js';
import { planRows } from './job-shard.js';
import { isTextPreprocess, readLineage } from './lineage.js';
import type { JobFrames } from './video.js';

/** Options of `refreshEmbedding`: the job's own options, with the model and preprocess taken from the lineage. */
export type RefreshEmbeddingOptions = Partial<Omit<EmbedOptions, 'column' | 'output' | 'shard' | 'preprocess'>> & {
  /** Also recompute rows whose stamp does not match their source's current bytes (reads every source sample). */
  readonly verify?: boolean;
};

/** What `refreshEmbedding` did: the refresh counts plus the embedding job's summary. */
export interface RefreshEmbeddingSummary extends RefreshSummary {
  readonly embed: EmbedSummary;
}

/**
 * Recomputes the stale rows of embedding column `column` (rows whose source changed, appended
 * rows, values written by hand) by running the embedding job on exactly those rows, as one commit
 * (plus, before it, one commit clearing values written by hand, when there are any). The model is
 * `options.model`, else the file or URI its lineage names; its sha256 must be the lineage's
 * (CONFLICT otherwise), and preprocess, normalize, frames and pooling come from the lineage.
 * `summary.recomputed` counts the rows the model ran on; `embed.embedded` those that got a vector.
 * A column without per-row lineage (created before it existed) has its rows without a value filled.
 */
export async function refreshEmbedding(
  ds: Dataset,
  column: string,
  options: RefreshEmbeddingOptions = {},
): Promise<RefreshEmbeddingSummary> {
  const lineage = readLineage(ds.columnMeta(column));
  if (!lineage) {
    throw new StrataError('UNSUPPORTED', `column ${column} of ${ds.uri} was not written by embed()`, {
      uri: ds.uri,
      column,
      hint: 'refresh embedding columns made by embed() or `strata embed`',
    });
  }
  const model = options.model ?? lineage.model.uri;
  if (options.model === undefined && (model === 'bytes' || model === 'session')) {
    throw new StrataError('INVALID_ARGUMENT', `refresh(${column}): its model was given in memory; pass it again`, {
      uri: ds.uri,
      column,
      field: 'model',
      hint: `refreshEmbedding(ds, '${column}', { model }) with the model of sha256 ${lineage.model.sha256}`,
    });
  }
  const cleared = lineage.rowLineage ? await clearHandWrittenValues(ds, column, options) : 0;
  const stale = lineage.rowLineage
    ? (await ds.staleRows(column, { signal: options.signal })).length
    : (await planRows(ds, column)).todo.reduce((n, [a, b]) => n + b - a, 0);
  const p = lineage.preprocess;
  const text = isTextPreprocess(p);
  const { verify: _verify, ...jobOptions } = options;
  const summary = await embed(ds, {
    ...jobOptions,
    column: lineage.sourceColumn,
    output: column,
    model,
    modelSha256: options.modelSha256 ?? lineage.model.sha256,
    inputName: options.inputName ?? lineage.model.inputName,
    outputName: options.outputName ?? lineage.model.outputName,
    normalize: lineage.normalize,
    ...(text
      ? {
          tokenizerName: p.tokenizer,
          maxTokens: p.maxTokens,
          padTokenId: p.padTokenId,
          tokenPooling: p.pooling,
        }
      : { preprocess: p }),
    ...(lineage.frames ? { frames: lineage.frames as JobFrames } : {}),
    ...(lineage.pooling ? { pooling: lineage.pooling } : {}),
    onLineageMismatch: 'error',
    // one commit: a refresh is published whole or not at all
    commitEveryBatches: undefined,
    commitIntervalMs: Number.MAX_SAFE_INTEGER,
  });
  return {
    column,
    stale,
    recomputed: summary.processed,
    version: summary.version,
    cleared,
    embed: summary,
  };
}

registerRefresher<Dataset>('strata.embedding', (ds, column, options) => refreshEmbedding(ds, column, options));
