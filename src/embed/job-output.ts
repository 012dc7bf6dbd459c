import type { Dataset } from '../dataset/dataset.js';
import { StrataError, isStrataError } from '../errors.js';
import type { EmbedOptions, EmbedSummary } from './job-options.js';
import {
  chooseOutput,
  newLineage,
  withFailures,
  type EmbedFailure,
  type EmbeddingLineage,
  type LineageIdentity,
} from './lineage.js';
import {
  planRows,
  rangesText,
  shardFailuresKey,
  withShardFailures,
  type RowRange,
  type ShardFailures,
} from './job-shard.js';
import { RateMeter, type EmbeddedSample } from './pipeline.js';
import { shardLabel, type Shard } from '../shard.js';
import { l2normalize, pool } from './video.js';
import { UNREADABLE_STAMP, stampColumnName } from '../dataset/derived/row-lineage.js';
import {
  addJobColumn,
  addStampColumn,
  datasetStamps,
  stagedNewColumns,
  stagePart,
  type StagedProgress,
} from '../dataset/derived/for-jobs.js';
import type { ColumnSpecInput } from '../dataset/schema.js';
import { ColumnStatistics } from '../stats/statistics.js';
import { stageStatistics } from './job-stats.js';

/** Where an embedding job writes: the column, its lineage, and the rows already there. */
export interface OutputPlan {
  readonly column: string;
  /** The column exists with the same lineage (resume or no-op). */
  readonly existing: boolean;
  readonly lineage: EmbeddingLineage;
  /** Unsharded: the first row without a value; a shard: its rows that have one. */
  readonly resumedFrom: number;
  /** Rows this run has to process. */
  readonly total: number;
  /** Those rows, in order. */
  readonly todo: readonly RowRange[];
  /** The shard this run does (commits then leave the shared lineage as it is). */
  readonly shard?: Shard;
  /** Rows appended to the dataset after the job last ran (null in the column; see EmbedSummary). */
  readonly unembedded: number;
  /** Per-frame video vectors: the frame timestamps column. */
  readonly timestampsColumn?: string;
  /** A staged job's shard: what a killed run of it staged in parts. */
  readonly resume?: StagedProgress;
}

/**
 * Picks the output column for `identity` (same lineage: resume it; another: CONFLICT or a new name)
 * and how far an earlier run got. Warns about rows that were appended after the last run.
 */
export async function planOutput(
  ds: Dataset,
  identity: LineageIdentity,
  options: EmbedOptions,
  model: { readonly uri: string; readonly inputDims: readonly number[]; readonly dim: number },
  shard?: Shard,
  staged?: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  progress?: (column: string) => Promise<StagedProgress>,
): Promise<OutputPlan> {
  const published = (name: string) => (ds.hasColumn(name) ? ds.columnMeta(name) : undefined);
  // a staged job's sibling shards may have staged the column already (not committed): same check
  const known = (name: string) => published(name) ?? staged?.get(name);
  const choice = chooseOutput(
    options.output ?? 'embedding',
    identity,
    known,
    options.onLineageMismatch ?? 'error',
    ds.uri,
  );
  const column = choice.column;
  const timestampsColumn = identity.pooling === 'none' ? `${column}_timestamps` : undefined;
  const rowLineage = stampColumnName(column);
  const lineage = choice.existing ?? newLineage(identity, { ...model, timestampsColumn, rowLineage });
  const isPublished = choice.existing !== undefined && published(column) !== undefined;
  // a staged job's shard resumes from the parts a killed run of it staged
  const resume = progress ? await progress(column) : undefined;
  const rows = await planRows(ds, isPublished ? column : undefined, shard, resume?.covered);
  const total = rows.todo.reduce((n, [a, b]) => n + b - a, 0);
  // a shard reads only its own fragments' files (planRows); storedLength would walk every fragment
  // up to the first one the column does not cover, most of them other shards'
  const storedLength = isPublished && !shard ? await ds.storedLength(column) : 0;
  const resumedFrom = shard ? rows.rows - total : storedLength;
  // rows past the job's last write that it did not write (append() given a value for this column,
  // which pads it with null; or an earlier Strata's null padding): a job only fills rows without a
  // value, so they stay as they are (reported, not silently skipped). Rows appended without a value
  // leave the column short. Sharded runs do not record rowsWritten (see EmbeddingLineage.sharded).
  const unembedded =
    isPublished && !choice.existing.sharded && !shard
      ? Math.max(0, storedLength - (choice.existing.rowsWritten ?? storedLength))
      : 0;
  if (unembedded > 0) {
    (options.onWarning ?? ((m: string, code: string) => process.emitWarning(m, { code })))(
      `${unembedded} rows of ${column} (rows ${choice.existing!.rowsWritten}..${storedLength - 1}) were written by append(), not by embed() (null or a given value); ` +
        `embed() appends only, so it cannot fill them: embed into a new output column to cover every row`,
      'STRATA_EMBED_UNFILLED',
    );
  }
  return {
    column,
    existing: isPublished,
    lineage,
    resumedFrom,
    total,
    todo: rows.todo,
    shard,
    unembedded,
    timestampsColumn,
    ...(resume ? { resume } : {}),
  };
}

/** The summary of a run that found every row already embedded. */
export function noopSummary(ds: Dataset, plan: OutputPlan, dim: number, t0: number): EmbedSummary {
  const seconds = (performance.now() - t0) / 1000;
  return {
    column: plan.column,
    resumedFrom: plan.resumedFrom,
    dim,
    unembedded: plan.unembedded,
    version: ds.version,
    noop: true,
    processed: 0,
    embedded: 0,
    empty: 0,
    failures: [],
    seconds,
    imagesPerSecond: 0,
    lineage: plan.lineage,
    stageSeconds: { setup: seconds, infer: 0, starved: 0, write: 0 },
  };
}

/**
 * Appends inferred samples to the output column in row order: checks each vector (dim, finite),
 * normalizes and pools frames, records failures (or throws in strict mode), commits on the job's
 * cadence (see commitCadence) with the lineage updated, and reports progress.
 */
export class OutputWriter {
  readonly failures: EmbedFailure[] = [];
  embedded = 0;
  empty = 0;
  private pendingFailures: EmbedFailure[] = [];
  private lineage: EmbeddingLineage;
  /** A shard's failures so far (recorded under its own column metadata key). */
  private shardFailures: ShardFailures | undefined;
  /** A staged job's shard: the number of its next part. */
  private part: number;
  private batches = 0;
  private commits = 0;
  private lastCommitMs = performance.now();
  /** Unsharded: the column length at the last commit; a shard: its rows with a value then. */
  private committedRows: number;
  private written: number;
  private processed = 0;
  /** Row ranges written since the last commit. */
  private pendingRanges: [number, number][] = [];
  private readonly meter: RateMeter;
  /** Stamps of rows read but not written yet, recorded by the source (see `stamps`). */
  readonly knownStamps = new Map<number, string>();
  /** With options.jobId: how the shard was staged (see EmbedSummary.staged). */
  staged: 'staged' | 'exists' | undefined;
  /** Statistics of the vectors written since the last commit (job-stats.ts); none for per-frame vectors. */
  private pendingStats: ColumnStatistics | undefined;

  constructor(
    private readonly ds: Dataset,
    private readonly plan: OutputPlan,
    private readonly identity: LineageIdentity,
    private readonly dim: number,
    private readonly options: EmbedOptions,
    private readonly cadence: CommitCadence,
  ) {
    this.lineage = plan.lineage;
    this.committedRows = this.written = plan.resumedFrom;
    this.meter = new RateMeter(plan.total);
    this.part = plan.resume?.nextPart ?? 0;
    if (plan.shard) {
      const key = shardFailuresKey(plan.shard);
      const meta = plan.existing ? ds.columnMeta(plan.column) : plan.resume?.columnMeta;
      this.shardFailures = meta?.[key] as ShardFailures | undefined;
    }
    this.prepareChanges();
  }

  /** Starts the pending changes: the new column (or a staged job's `sharded` mark), the shard's failures. */
  private prepareChanges(): void {
    const { ds, plan, options } = this;
    if (!plan.existing) addOutputColumns(ds, plan, this.dim, this.lineage, options.jobId);
    else if (options.jobId !== undefined && !this.lineage.sharded) {
      // a staged job marks the lineage `sharded` with its outputs (published by commitJob)
      ds.setColumnMeta(plan.column, { lineage: { ...this.lineage, sharded: true } });
    }
    if (plan.shard && this.shardFailures && options.jobId !== undefined)
      ds.setColumnMeta(plan.column, { [shardFailuresKey(plan.shard)]: this.shardFailures });
  }

  /**
   * Stamps (per-row lineage) of rows [row, row + n): those the source recorded in `knownStamps`
   * while reading the samples, else from the source column's stored samples.
   */
  private async stamps(row: number, n: number): Promise<string[]> {
    const out: string[] = [];
    for (let r = row; r < row + n; r++) {
      const known = this.knownStamps.get(r);
      this.knownStamps.delete(r);
      out.push(known ?? (await this.storedStamp(r)));
    }
    return out;
  }

  /** The stamp of row `r` from its stored source sample; a damaged one (its failure is recorded) stamps as unreadable. */
  private async storedStamp(r: number): Promise<string> {
    try {
      return (await datasetStamps(this.ds, [this.identity.sourceColumn], [r]))[0];
    } catch (err) {
      if (isStrataError(err, 'CORRUPT')) return UNREADABLE_STAMP;
      throw err;
    }
  }

  async write(samples: readonly EmbeddedSample[]): Promise<void> {
    const { dim, identity } = this;
    const values: unknown[] = [];
    const times: unknown[] = [];
    for (const s of samples) {
      let value: unknown = null;
      let failure = s.failure;
      if (!failure && !s.empty) {
        const vs = s.vectors.map((v) => (identity.normalize ? l2normalize(v) : v));
        if (vs.some((v) => v.length !== dim || !allFinite(v))) failure = `model output is not ${dim} finite numbers`;
        else if (this.plan.timestampsColumn) value = { data: concat(vs, dim), shape: [vs.length, dim] };
        else value = vs.length === 1 ? vs[0] : pool(vs, identity.pooling as 'mean' | 'max');
        if (value instanceof Float32Array && identity.normalize && vs.length > 1) l2normalize(value);
      }
      if (failure) {
        if (this.options.strict) {
          const missing = s.failureCode === 'NOT_FOUND';
          throw new StrataError(
            s.failureCode ?? 'CORRUPT',
            `row ${s.row} of ${identity.sourceColumn} cannot be embedded: ${failure}`,
            {
              row: s.row,
              column: identity.sourceColumn,
              uri: this.ds.uri,
              ...(s.file !== undefined ? { file: s.file } : {}),
              hint: `${missing ? 'restore the file or fix the link' : 'fix or remove the sample'}, or run without strict to record it and store null`,
            },
          );
        }
        const f = { row: s.row, reason: failure };
        this.failures.push(f);
        this.pendingFailures.push(f);
        value = null;
      } else if (s.empty) this.empty++;
      else {
        this.embedded++;
        if (value instanceof Float32Array && this.options.statistics !== false)
          (this.pendingStats ??= ColumnStatistics.create('embedding', { dim })).add(value);
      }
      values.push(value);
      times.push(
        value === null ? null : { data: Float64Array.from(s.timestamps ?? []), shape: [s.timestamps?.length ?? 0] },
      );
    }
    // consecutive rows are stored together (a batch may span the end of one range and the next)
    for (let i = 0; i < samples.length;) {
      let j = i + 1;
      while (j < samples.length && samples[j].row === samples[j - 1].row + 1) j++;
      const row = samples[i].row;
      await this.ds.fillRows(this.plan.column, row, values.slice(i, j));
      if (this.lineage.rowLineage) await this.ds.fillRows(this.lineage.rowLineage, row, await this.stamps(row, j - i));
      if (this.plan.timestampsColumn) await this.ds.fillRows(this.plan.timestampsColumn, row, times.slice(i, j));
      const last = this.pendingRanges.at(-1);
      if (last && last[1] === row) last[1] = row + j - i;
      else this.pendingRanges.push([row, row + j - i]);
      i = j;
    }
    if (samples.length > 0) this.written = Math.max(this.written, samples[samples.length - 1].row + 1);
    this.processed += samples.length;
    this.batches++;
    const due =
      this.cadence.everyBatches !== undefined
        ? this.batches % this.cadence.everyBatches === 0
        : performance.now() - this.lastCommitMs >= this.cadence.intervalMs;
    // a staged job (options.jobId) publishes nothing: its shard stages parts (a killed run resumes
    // from them), and at the end its entry with every part
    if (due && this.options.jobId === undefined) await this.commit();
    else if (due && this.plan.shard) await this.stagePart(this.options.jobId!, this.plan.shard);
    this.options.onProgress?.(
      this.meter.add(samples.length, { committedRows: this.committedRows, skipped: this.failures.length }),
    );
  }

  /**
   * Publishes the rows written so far (with the lineage and failures); the first run always commits.
   * With options.jobId, stages them instead (once, at the end of the shard).
   */
  async commit(): Promise<void> {
    const jobId = this.options.jobId;
    if (jobId === undefined && this.pendingRanges.length === 0 && (this.plan.existing || this.commits > 0)) return;
    this.commits++;
    const shard = this.plan.shard;
    if (shard) {
      // the lineage is shared by every shard and stays as recorded; failures go under this shard's own key
      this.recordShardFailures(shard);
    } else {
      this.lineage = withFailures(this.lineage, this.pendingFailures, this.written);
      this.ds.setColumnMeta(this.plan.column, { lineage: this.lineage });
    }
    this.pendingFailures = [];
    if (this.pendingStats) {
      stageStatistics(this.ds, this.plan.column, this.pendingStats, shard);
      this.pendingStats = undefined;
    }
    const ranges = this.pendingRanges.length ? rangesText(this.pendingRanges) : 'rows 0..0';
    const message = `embed ${this.identity.sourceColumn} → ${this.plan.column}${shard ? ` (shard ${shardLabel(shard)})` : ''}: ${ranges}`;
    if (jobId !== undefined && shard) {
      if (!this.plan.existing) await this.adoptStagedLineage(jobId);
      this.staged = await this.ds.stage(message, { jobId, shard, signal: this.options.signal });
      this.pendingRanges = [];
      return;
    }
    await this.ds.commit(message);
    this.pendingRanges = [];
    this.committedRows = this.plan.shard ? this.plan.resumedFrom + this.processed : this.written;
    this.lastCommitMs = performance.now();
  }

  private recordShardFailures(shard: Shard): void {
    if (this.pendingFailures.length === 0) return;
    this.shardFailures = withShardFailures(this.shardFailures, this.pendingFailures);
    this.ds.setColumnMeta(this.plan.column, { [shardFailuresKey(shard)]: this.shardFailures });
    this.pendingFailures = [];
  }

  /** Stages the rows written since the last part as the shard's next part, then goes on. */
  private async stagePart(jobId: string, shard: Shard): Promise<void> {
    if (this.pendingRanges.length === 0) return;
    this.recordShardFailures(shard);
    const message = `embed ${this.identity.sourceColumn} → ${this.plan.column} (shard ${shardLabel(shard)}, part ${this.part}): ${rangesText(this.pendingRanges)}`;
    await stagePart(this.ds, message, jobId, shard, this.part++, this.options.signal);
    this.pendingRanges = [];
    this.committedRows = this.plan.resumedFrom + this.processed;
    this.lastCommitMs = performance.now();
    this.prepareChanges();
  }

  /**
   * A staged job's new column: a sibling shard that staged it meanwhile must have this job's
   * lineage (else CONFLICT naming both models, nothing staged), and this shard records the very
   * same lineage object, so that commitJob merges the shards' additions into one column.
   */
  private async adoptStagedLineage(jobId: string): Promise<void> {
    const meta = (await stagedNewColumns(this.ds, jobId, this.options.signal)).get(this.plan.column);
    if (!meta) return;
    chooseOutput(this.plan.column, this.identity, () => meta, 'error', this.ds.uri);
    if (JSON.stringify(meta.lineage) === JSON.stringify(this.lineage)) return;
    this.lineage = meta.lineage as EmbeddingLineage;
    this.ds.setColumnMeta(this.plan.column, { lineage: this.lineage });
  }

  /** The summary after the last commit. */
  summary(t0: number, stageSeconds: EmbedSummary['stageSeconds']): EmbedSummary {
    const seconds = (performance.now() - t0) / 1000;
    const processed = this.processed;
    return {
      column: this.plan.column,
      resumedFrom: this.plan.resumedFrom,
      dim: this.dim,
      unembedded: this.plan.unembedded,
      version: this.ds.version,
      noop: false,
      processed,
      embedded: this.embedded,
      empty: this.empty,
      failures: this.failures,
      seconds,
      imagesPerSecond: processed / seconds,
      lineage: this.lineage,
      stageSeconds,
    };
  }
}

/**
 * Adds the output column (and the frame timestamps column) with its lineage, and its per-row
 * lineage (stamp) column, in the pending transaction.
 */
export function addOutputColumns(
  ds: Dataset,
  plan: OutputPlan,
  dim: number,
  lineage: EmbeddingLineage,
  jobId?: string,
): void {
  // a staged job's shards add the columns under the job's ids for them (see addJobColumn)
  const add = (name: string, spec: ColumnSpecInput) =>
    jobId === undefined ? ds.addColumn(name, spec) : addJobColumn(ds, name, spec, jobId);
  if (plan.timestampsColumn) {
    add(plan.column, { htype: 'generic', dtype: 'float32', shape: [-1, dim] });
    add(plan.timestampsColumn, { htype: 'generic', dtype: 'float64', shape: [-1] });
  } else add(plan.column, { htype: 'embedding', dim });
  if (lineage.rowLineage) addStampColumn(ds, plan.column, [lineage.sourceColumn], jobId);
  ds.setColumnMeta(plan.column, { lineage });
}

function concat(vs: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(vs.length * dim);
  vs.forEach((v, i) => out.set(v, i * dim));
  return out;
}

/** When a job commits: every N batches, or once `intervalMs` has passed since the last commit. */
export interface CommitCadence {
  readonly everyBatches?: number;
  readonly intervalMs: number;
}

const DEFAULT_COMMIT_INTERVAL_MS = 10_000;

/** The cadence of `options` (commitEveryBatches wins over commitIntervalMs), validated. */
export function commitCadence(options: Pick<EmbedOptions, 'commitEveryBatches' | 'commitIntervalMs'>): CommitCadence {
  const intervalMs = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `commitIntervalMs must be a number of milliseconds >= 0, got ${intervalMs}`,
      {
        field: 'commitIntervalMs',
        hint: 'e.g. 10000 commits at most every 10 s; 0 after every batch',
      },
    );
  }
  const everyBatches =
    options.commitEveryBatches === undefined
      ? undefined
      : positiveInt(options.commitEveryBatches, 'commitEveryBatches');
  return { everyBatches, intervalMs };
}

export function positiveInt(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 1)
    throw new StrataError('INVALID_ARGUMENT', `${field} must be a positive integer, got ${v}`, { field });
  return v;
}

/** Every value finite (a plain loop: `Float32Array#every(Number.isFinite)` boxes each value). */
function allFinite(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}
