import { StrataError } from '../errors.js';
import type { FrameSelection } from '../media/video-frames.js';
import { STRATA_VERSION } from '../version.js';
import type { Preprocess } from './preprocess.js';
import type { TextPreprocess } from './text-model.js';

/** How frame vectors of one video become the stored value. 'none' keeps one vector per frame. */
export const POOLINGS = ['mean', 'max', 'none'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** One sample that could not be embedded (stored as null in the output column). */
export interface EmbedFailure {
  readonly row: number;
  readonly reason: string;
}

/** At most this many failures are kept in the column metadata (the count is always exact). */
export const MAX_RECORDED_FAILURES = 1000;

/** Everything that decides what the vectors of an embedding column mean. */
export interface LineageIdentity {
  readonly sourceColumn: string;
  readonly model: {
    /** sha256 (hex) of the .onnx file. */
    readonly sha256: string;
    readonly inputName: string;
    readonly outputName: string;
  };
  /** Image/frame preprocessing, or for text columns the tokenizer settings (`kind: 'text'`). */
  readonly preprocess: Preprocess | TextPreprocess;
  readonly normalize: boolean;
  /** Videos only, else null. */
  readonly frames: FrameSelection | null;
  readonly pooling: Pooling | null;
}

/**
 * Lineage of an embedding column, stored as `columnMeta(column).lineage`: the identity plus where
 * the model came from, when and by which Strata version the column was created, and the failures.
 */
export interface EmbeddingLineage extends LineageIdentity {
  readonly kind: 'strata.embedding';
  readonly model: LineageIdentity['model'] & {
    /** Path or URI the model was loaded from ('bytes' / 'session' when given in memory). */
    readonly uri: string;
    /** Input dims the model declares (-1 dynamic). */
    readonly inputDims: readonly number[];
  };
  readonly dim: number;
  /** ISO time of the first run that created the column. */
  readonly createdAt: string;
  readonly strataVersion: string;
  /** ISO time of the last commit. */
  readonly updatedAt: string;
  readonly failureCount: number;
  /**
   * Rows the job itself has written (the column length at its last commit). A longer column means
   * rows were appended afterwards with a value for this column, or null-padded by an earlier Strata
   * (see EmbedSummary.unembedded).
   */
  readonly rowsWritten: number;
  /** The first MAX_RECORDED_FAILURES failures, by row. */
  readonly failures: readonly EmbedFailure[];
  /** Per-frame columns ('none' pooling): the name of the timestamps column. */
  readonly timestampsColumn?: string;
  /**
   * The hidden per-row lineage column (`<column>.__lineage`, see src/dataset/derived/row-lineage.ts):
   * each row's stamp of the source sample it was computed from. Absent on columns created before
   * per-row lineage existed (their rows are never reported stale).
   */
  readonly rowLineage?: string;
  /**
   * Set once a sharded run (EmbedOptions.shard) has written the column. Shards never update the
   * lineage (it is shared: they would collide), so from then on `rowsWritten`, `failureCount` and
   * `failures` cover unsharded runs only; each shard records its failures under `failures i/n`.
   */
  readonly sharded?: boolean;
}

export function newLineage(
  identity: LineageIdentity,
  extra: { uri: string; inputDims: readonly number[]; dim: number; timestampsColumn?: string; rowLineage?: string },
): EmbeddingLineage {
  const now = new Date().toISOString();
  return {
    kind: 'strata.embedding',
    ...identity,
    model: { ...identity.model, uri: extra.uri, inputDims: [...extra.inputDims] },
    dim: extra.dim,
    createdAt: now,
    updatedAt: now,
    strataVersion: STRATA_VERSION,
    failureCount: 0,
    rowsWritten: 0,
    failures: [],
    ...(extra.timestampsColumn ? { timestampsColumn: extra.timestampsColumn } : {}),
    ...(extra.rowLineage ? { rowLineage: extra.rowLineage } : {}),
  };
}

/**
 * The lineage stored on a column, or undefined when the column has none. A column written before
 * `preprocess.iccProfile` existed had embedded ICC profiles applied (sharp's default then): its
 * lineage reads as `iccProfile: 'srgb'`, so a query or a resumed run preprocesses the same way.
 */
export function readLineage(meta: Readonly<Record<string, unknown>>): EmbeddingLineage | undefined {
  const l = meta.lineage as EmbeddingLineage | undefined;
  if (!l || l.kind !== 'strata.embedding') return undefined;
  const p = l.preprocess;
  if (!isTextPreprocess(p) && p.iccProfile === undefined) return { ...l, preprocess: { ...p, iccProfile: 'srgb' } };
  return l;
}

function identityKey(l: LineageIdentity): string {
  const p = l.preprocess;
  return JSON.stringify([
    l.sourceColumn,
    l.model.sha256,
    l.model.inputName,
    l.model.outputName,
    isTextPreprocess(p)
      ? p
      : [
          p.size,
          p.fit,
          p.mean,
          p.std,
          p.layout,
          p.channels,
          p.scale,
          p.fit === 'center-crop' ? p.cropFraction : null,
          p.iccProfile,
        ],
    l.normalize,
    l.frames,
    l.pooling,
  ]);
}

export function isTextPreprocess(p: Preprocess | TextPreprocess): p is TextPreprocess {
  return (p as TextPreprocess).kind === 'text';
}

/** The fields where `a` and `b` differ (empty: same vectors). */
export function lineageDiff(a: LineageIdentity, b: LineageIdentity): string[] {
  if (identityKey(a) === identityKey(b)) return [];
  const out: string[] = [];
  if (a.sourceColumn !== b.sourceColumn) out.push('column');
  if (a.model.sha256 !== b.model.sha256) out.push('model sha256');
  if (a.model.inputName !== b.model.inputName) out.push('inputName');
  if (a.model.outputName !== b.model.outputName) out.push('outputName');
  if (JSON.stringify(a.preprocess) !== JSON.stringify(b.preprocess)) out.push('preprocess');
  if (a.normalize !== b.normalize) out.push('normalize');
  if (JSON.stringify(a.frames) !== JSON.stringify(b.frames)) out.push('frames');
  if (a.pooling !== b.pooling) out.push('pooling');
  return out.length ? out : ['preprocess'];
}

/** Lineage after a commit that added `failures` (merged by row, capped). */
export function withFailures(
  l: EmbeddingLineage,
  failures: readonly EmbedFailure[],
  rowsWritten: number,
): EmbeddingLineage {
  const merged = [...l.failures];
  for (const f of failures) if (merged.length < MAX_RECORDED_FAILURES) merged.push(f);
  return {
    ...l,
    updatedAt: new Date().toISOString(),
    failureCount: l.failureCount + failures.length,
    failures: merged,
    rowsWritten,
  };
}

/** What the job does about a column whose lineage differs. */
export const ON_LINEAGE_MISMATCH = ['error', 'new-column'] as const;
export type OnLineageMismatch = (typeof ON_LINEAGE_MISMATCH)[number];

export interface OutputChoice {
  /** Column to write. */
  readonly column: string;
  /** Existing lineage of that column (resume or no-op), undefined when the column is new. */
  readonly existing?: EmbeddingLineage;
}

/**
 * Picks the output column. Same lineage: that column (resume / no-op). No such column: create it.
 * Different lineage (or a column not written by embed): CONFLICT naming the differences, or with
 * 'new-column' the first of `output_2`, `output_3`, ... that is free or has this exact lineage.
 */
export function chooseOutput(
  output: string,
  identity: LineageIdentity,
  columnMeta: (name: string) => Readonly<Record<string, unknown>> | undefined,
  onMismatch: OnLineageMismatch,
  uri: string,
): OutputChoice {
  for (let n = 1; n < 1000; n++) {
    const name = n === 1 ? output : `${output}_${n}`;
    const meta = columnMeta(name);
    if (meta === undefined) return { column: name };
    const existing = readLineage(meta);
    const diff = existing ? lineageDiff(existing, identity) : ['not written by embed()'];
    if (diff.length === 0) return { column: name, existing };
    if (onMismatch === 'error') {
      const models =
        existing && existing.model.sha256 !== identity.model.sha256
          ? `: its model is sha256 ${existing.model.sha256} (${existing.model.uri}), this job's is sha256 ${identity.model.sha256}`
          : '';
      throw new StrataError(
        'CONFLICT',
        `column ${name} of ${uri} holds embeddings from a different model or preprocess (differs in: ${diff.join(', ')})${models}`,
        {
          column: name,
          uri,
          field: 'output',
          differences: diff,
          ...(existing ? { columnModel: existing.model.sha256, jobModel: identity.model.sha256 } : {}),
          hint: `write to a new column (output: '${output}_v2'), or pass onLineageMismatch: 'new-column' to pick ${output}_2, ${output}_3, ... automatically`,
        },
      );
    }
  }
  throw new StrataError('CONFLICT', `no free column name for ${output} in ${uri}`, {
    column: output,
    uri,
    hint: 'choose another output name',
  });
}
