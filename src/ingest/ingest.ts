import { StrataError, isStrataError, throwIfAborted } from '../errors.js';
import { Dataset } from '../dataset/dataset.js';
import type { ColumnSpecInput } from '../dataset/schema.js';
import { normalizeSpec } from '../dataset/htypes/index.js';
import { type EncodedRow, appendEncodedRow, encodeRow, linkResolver } from '../dataset/row-writer.js';
import { type OpenStorageOptions, openStorage } from '../storage/open.js';
import type { Storage } from '../storage/storage.js';
import { ProgressTracker } from './progress.js';
import { checkShard, shardOfKey, type Shard } from '../shard.js';
import type { Progress } from '../progress.js';
import { type IngestItem, type IngestLayout, type SourcePlan, planSource, readItem } from './source.js';

export interface IngestOptions extends OpenStorageOptions {
  /** 'imagefolder' (`<class>/<file>`), 'table' (a CSV/JSONL/Parquet file mapping paths to columns), or
   * 'auto' (default): 'table' when `table` is given or exactly one table file sits at the source root. */
  readonly layout?: IngestLayout;
  /** Key of the table file below the source root. */
  readonly table?: string;
  /** Table column holding the file paths (relative to the table's folder, or absolute/URLs).
   * Default: the first of file, path, filename, file_name, image, video, uri, url. */
  readonly pathColumn?: string;
  /** Table columns to combine into one bbox column (one box per row), e.g.
   * `{ boxes: ['bbox_left', 'bbox_top', 'bbox_right', 'bbox_bottom'] }`; the parts are dropped. */
  readonly boxColumns?: Readonly<Record<string, readonly [string, string, string, string]>>;
  /** Column types for table columns (default: inferred, see `inferSpec`). */
  readonly schema?: Readonly<Record<string, ColumnSpecInput>>;
  /** Store references (htype link) instead of the bytes. Default false. Links resolve with the same
   * `s3`/`local`/`http` options as the source (stored as the dataset's link options when ingest creates it). */
  readonly link?: boolean;
  /** Files read and validated at once. Default 8. */
  readonly concurrency?: number;
  /** Commit every this many rows so an interrupted ingest keeps its progress. Default: one commit at the end. */
  readonly commitEveryRows?: number;
  /** Text column recording each row's source file (its key below the source root), used to resume. Default '_source'. */
  readonly sourceColumn?: string;
  /** Column names. Defaults 'image', 'video', 'label' (ImageFolder class). */
  readonly imageColumn?: string;
  readonly videoColumn?: string;
  readonly labelColumn?: string;
  /** Chunk size of the target when it is created. Default 8 MiB. */
  readonly chunkSizeBytes?: number;
  /** Commit message prefix. Default 'ingest <source>'. */
  readonly message?: string;
  /**
   * Ingest one shard of the source: the files whose path (below the source root) hashes to `index`
   * mod `count` (see shardOfKey). Shards run at the same time into one dataset: each first commits
   * the columns and the whole source's class names on their own (retried after a concurrent commit,
   * so class ids never shift under encoded rows), then appends only its rows, which commute. The
   * class list is the union of what the shards (or separate ingests) declared. Default: every file.
   */
  readonly shard?: Shard;
  /**
   * Two-phase commit (see docs/SCALING.md): the shard appends its rows but publishes no version; it
   * stages them under this job id (`ds.stage`), and `ds.commitJob(jobId)` (CLI `strata job commit
   * <uri> <jobId>`) publishes every shard as one version. A shard staged already does nothing
   * (`staged: 'exists'`); a killed one is re-run from its start. Without `shard`, the run is shard
   * 0 of 1. commitEveryRows does not apply. Default: each shard commits as it goes.
   */
  readonly jobId?: string;
  readonly onProgress?: (p: Progress) => void;
  readonly signal?: AbortSignal;
}

export interface IngestSummary {
  readonly uri: string;
  /** Dataset version after the last commit. */
  readonly version: number;
  /** Rows added by this run. */
  readonly ingested: number;
  /** Files found already ingested (by the source column) and not added again. */
  readonly alreadyPresent: number;
  /** Files not ingested, with the reason (corrupt, unreadable, unknown type, bad table row). */
  readonly skipped: { file: string; reason: string }[];
  /** Source bytes read. */
  readonly bytes: number;
  readonly seconds: number;
  readonly commits: number;
  /** With `jobId`: 'staged' (this run staged the shard) or 'exists' (it was staged before; nothing done). */
  readonly staged?: 'staged' | 'exists';
}

type Outcome = { ok: true; row: EncodedRow; bytes: number } | { ok: false; reason: string };

/**
 * Ingests a local folder or an S3 prefix into a dataset (created when absent). Files are read and
 * validated by the htype encoders `concurrency` at a time and appended in listing order; corrupt
 * files are skipped and listed. Each row records its source file in `sourceColumn`, so running the
 * same ingest again (e.g. after a crash) adds only the files not yet committed: every file lands once.
 */
export async function ingest(
  source: string,
  target: string | Dataset,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  const signal = options.signal;
  throwIfAborted(signal, 'ingest');
  const concurrency = options.concurrency ?? 8;
  const every = options.commitEveryRows ?? Infinity;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new StrataError('INVALID_ARGUMENT', `ingest: concurrency must be a positive integer, got ${concurrency}`, {
      field: 'concurrency',
    });
  if (!(every === Infinity || (Number.isInteger(every) && every > 0)))
    throw new StrataError('INVALID_ARGUMENT', `ingest: commitEveryRows must be a positive integer, got ${every}`, {
      field: 'commitEveryRows',
    });
  const names = {
    image: options.imageColumn ?? 'image',
    video: options.videoColumn ?? 'video',
    label: options.labelColumn ?? 'label',
    source: options.sourceColumn ?? '_source',
  };
  const jobId = options.jobId;
  const shard =
    options.shard !== undefined ? checkShard(options.shard) : jobId !== undefined ? { index: 0, count: 1 } : undefined;
  const inShard = (file: string) => !shard || shardOfKey(file, shard.count) === shard.index;
  const storageOptions: OpenStorageOptions = { s3: options.s3, local: options.local, http: options.http };
  const src = await openStorage(source, storageOptions);
  const t0 = performance.now();
  let ds: Dataset | undefined;
  const ownDataset = typeof target === 'string';
  try {
    const plan = await planSource(
      src,
      {
        layout: options.layout ?? 'auto',
        table: options.table,
        pathColumn: options.pathColumn,
        schema: options.schema,
        labelColumn: names.label,
        boxColumns: options.boxColumns,
      },
      signal,
    );
    const schema = schemaFor(plan, names, options.link ?? false);
    ds =
      typeof target === 'string'
        ? await Dataset.create(target, {
            ...storageOptions,
            schema,
            ifExists: 'open',
            chunkSizeBytes: options.chunkSizeBytes,
            signal,
          })
        : target;
    const message = options.message ?? `ingest ${src.uri}`;
    let commits = 0;
    const summary = (fields: Omit<IngestSummary, 'uri' | 'version' | 'seconds' | 'commits'>): IngestSummary => ({
      uri: ds!.uri,
      version: ds!.version,
      ...fields,
      seconds: (performance.now() - t0) / 1000,
      commits,
    });
    if (jobId !== undefined && shard && (await ds.isStaged(jobId, shard, { signal })))
      return summary({ ingested: 0, alreadyPresent: 0, skipped: [], bytes: 0, staged: 'exists' });
    if (shard || addsClassNames(ds, plan)) {
      // Columns and class names first, in a commit of their own: rows encode class ids, which must
      // not shift when another ingest (shard) declares names at the same time.
      commits += await declareColumns(ds, schema, plan, `${message}: columns and class names`);
    } else prepareColumns(ds, schema, plan);
    let schemaPending = ds.hasPendingChanges;
    const present =
      ds.columns.includes(names.source) && ds.length > 0
        ? new Set((await ds.values(names.source, { signal })).filter((v): v is string => typeof v === 'string'))
        : new Set<string>();
    const mine = plan.items.filter((it) => inShard(it.id));
    const todo = mine.filter((it) => !present.has(it.id));
    const skipped = plan.ignored.filter((f) => inShard(f.file));
    const tracker = new ProgressTracker(todo.length);
    const state = { committing: false, gate: Promise.resolve() };
    const work = (item: IngestItem, i: number): Promise<Outcome> =>
      encodeItem(ds!, src, item, names, options.link ?? false, state, i, signal);

    let ingested = 0;
    let sinceCommit = 0;
    const window: Promise<Outcome>[] = [];
    let started = 0;
    const commit = async () => {
      let release!: () => void;
      state.gate = new Promise((r) => (release = r));
      state.committing = true;
      try {
        await ds!.commit(`${message}: ${ingested} files`);
        commits++;
        sinceCommit = 0;
        schemaPending = false;
      } finally {
        state.committing = false;
        release();
      }
    };
    for (let i = 0; i < todo.length; i++) {
      while (started < todo.length && started < i + concurrency) {
        const p = work(todo[started], started);
        p.catch(() => undefined);
        window.push(p);
        started++;
      }
      const outcome = await window.shift()!;
      throwIfAborted(signal, 'ingest');
      if (outcome.ok) {
        await appendEncodedRow(ds, outcome.row);
        ingested++;
        sinceCommit++;
        tracker.bytes += outcome.bytes;
      } else {
        skipped.push({ file: todo[i].id, reason: outcome.reason });
        tracker.skipped++;
      }
      tracker.done++;
      options.onProgress?.(tracker.snapshot());
      if (sinceCommit >= every && jobId === undefined) await commit();
    }
    let staged: 'staged' | 'exists' | undefined;
    if (jobId !== undefined && shard)
      staged = await ds.stage(`${message} (shard ${shard.index}/${shard.count}): ${ingested} files`, {
        jobId,
        shard,
        signal,
      });
    else if (sinceCommit > 0 || schemaPending) await commit();
    else await ds.rollback(); // only encodes of files that were then skipped
    if (todo.length === 0) options.onProgress?.(tracker.snapshot());
    return summary({
      ingested,
      alreadyPresent: mine.length - todo.length,
      skipped,
      bytes: tracker.bytes,
      ...(staged ? { staged } : {}),
    });
  } catch (err) {
    await ds?.rollback().catch(() => undefined);
    if (signal?.aborted && !isStrataError(err, 'ABORTED'))
      throw new StrataError('ABORTED', 'ingest was aborted', { cause: err });
    throw err;
  } finally {
    if (ownDataset) await ds?.close().catch(() => undefined);
    await src.close();
  }
}

function schemaFor(
  plan: SourcePlan,
  names: { image: string; video: string; label: string; source: string },
  link: boolean,
): Record<string, ColumnSpecInput> {
  const schema: Record<string, ColumnSpecInput> = {};
  const kinds = new Set(plan.items.map((it) => it.kind));
  if (kinds.has('image') || kinds.size === 0)
    schema[names.image] = link ? { htype: 'link', target: 'image' } : { htype: 'image' };
  if (kinds.has('video')) schema[names.video] = link ? { htype: 'link', target: 'video' } : { htype: 'video' };
  for (const [c, spec] of Object.entries(plan.tabular)) {
    if (c in schema)
      throw new StrataError('INVALID_ARGUMENT', `ingest: table column ${c} clashes with the media column`, {
        column: c,
        hint: 'rename it, or pass imageColumn/videoColumn',
      });
    schema[c] = spec;
  }
  for (const [c, classNames] of plan.labels) schema[c] = { htype: 'class_label', classNames };
  schema[names.source] = 'text';
  return schema;
}

/** True when the target exists with a class column that lacks some of the source's class names. */
function addsClassNames(ds: Dataset, plan: SourcePlan): boolean {
  for (const [c, names] of plan.labels) {
    if (!ds.columns.includes(c)) continue;
    const existing = (ds.columnMeta(c).classNames as string[] | undefined) ?? [];
    if (names.some((n) => !existing.includes(n))) return true;
  }
  return false;
}

/**
 * Commits what the target lacks (columns, class names) on its own; after a CONFLICT (another ingest
 * declared names or columns first) re-reads the latest version and declares what is still missing.
 * Returns the number of commits made (0 or 1).
 */
async function declareColumns(
  ds: Dataset,
  schema: Record<string, ColumnSpecInput>,
  plan: SourcePlan,
  message: string,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    prepareColumns(ds, schema, plan);
    if (!ds.hasPendingChanges) return 0;
    try {
      await ds.commit(message);
      return 1;
    } catch (err) {
      await ds.rollback();
      if (!isStrataError(err, 'CONFLICT') || attempt >= 8) throw err;
      await ds.refresh();
    }
  }
}

/** Adds what the target lacks (columns, class names) in the pending transaction; checks htypes agree. */
function prepareColumns(ds: Dataset, schema: Record<string, ColumnSpecInput>, plan: SourcePlan): void {
  for (const [c, input] of Object.entries(schema)) {
    const want = normalizeSpec(c, input);
    if (!ds.columns.includes(c)) {
      ds.addColumn(c, want);
      continue;
    }
    const have = ds.schema[c];
    if (
      have.htype !== want.htype ||
      (want.htype === 'link' && have.htype === 'link' && (have.target ?? 'image') !== (want.target ?? 'image'))
    ) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `ingest: column ${c} of ${ds.uri} is ${have.htype}, this ingest needs ${want.htype}`,
        {
          column: c,
          uri: ds.uri,
          hint: 'ingest into another dataset, or match the link option to the first ingest',
        },
      );
    }
  }
  // Class names are declared before any row is encoded: rows are encoded concurrently, and an
  // encoder adding a name to the column metadata on its own could race with another doing the same.
  for (const [c, names] of plan.labels) {
    const existing = (ds.columnMeta(c).classNames as string[] | undefined) ?? [];
    const added = names.filter((n) => !existing.includes(n));
    if (added.length > 0) ds.setColumnMeta(c, { classNames: [...existing, ...added] });
  }
}

async function encodeItem(
  ds: Dataset,
  src: Storage,
  item: IngestItem,
  names: { image: string; video: string; source: string },
  link: boolean,
  state: { committing: boolean; gate: Promise<void> },
  i: number,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  // The row this file would get if nothing before it were skipped: the encoders name it in their
  // errors, but a skipped file never becomes a row, so skip reasons leave it out (the file names it).
  const provisionalRow = ds.versionInfo.length + i;
  try {
    throwIfAborted(signal, 'ingest');
    const bytes = link ? undefined : await readItem(src, item, linkResolver(ds), signal);
    const column = item.kind === 'image' ? names.image : names.video;
    const row = { ...item.values, [column]: link ? item.url : bytes, [names.source]: item.id };
    // Never start encoding while a commit swaps the transaction (the encoder would bind to the old one).
    while (state.committing) await state.gate;
    const encoded = await encodeRow(ds, row, provisionalRow);
    return { ok: true, row: encoded, bytes: bytes?.byteLength ?? 0 };
  } catch (err) {
    if (signal?.aborted) throw err;
    if (isStrataError(err) && ['INVALID_ARGUMENT', 'CORRUPT', 'UNSUPPORTED', 'NOT_FOUND'].includes(err.code))
      return { ok: false, reason: withoutRow(err.message, err.details.row === provisionalRow ? provisionalRow : -1) };
    if (isStrataError(err)) throw err;
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** `message` without the encoders' reference to row `row` (`(column 'x', row 3)` → `(column 'x')`). */
function withoutRow(message: string, row: number): string {
  if (row < 0) return message;
  return message
    .replace(` (row ${row})`, '')
    .replace(`(row ${row}, `, '(')
    .replace(`, row ${row}`, '')
    .replace(new RegExp(`^row ${row}: `), '');
}
