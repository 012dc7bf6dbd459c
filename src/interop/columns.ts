import { StrataError, throwIfAborted } from '../errors.js';
import type { DatasetReader } from '../dataset/read.js';
import type { Tensor } from '../dataset/htypes/generic.js';
import type { ColumnSpec } from '../dataset/schema.js';
import type { DType } from '../format/dtype.js';

/**
 * A column of a view pulled out as plain JS values, ready to be written to Arrow or Parquet:
 * media as file bytes (links as their URL), class labels as ids, embeddings as Float32Array,
 * generic tensors as flat typed arrays with their shapes.
 */
export interface ExtractedColumn {
  readonly name: string;
  readonly htype: string;
  readonly dtype: DType;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly spec: ColumnSpec;
  readonly values: unknown[];
  /** Generic columns holding tensors: per-row shapes (null for null rows); undefined for scalar columns. */
  readonly shapes?: (number[] | null)[];
}

/**
 * The columns of `ds` (all its rows, or only version positions `at`, e.g. one slice of
 * `ds.indices()`: read without loading the whole column). Generic columns named in `tensors` are
 * extracted as tensors (with shapes) even when these rows hold only scalars or nulls.
 */
export async function extractColumns(
  ds: DatasetReader,
  columns: readonly string[] | undefined,
  signal?: AbortSignal,
  at?: ArrayLike<number>,
  tensors?: ReadonlySet<string>,
): Promise<ExtractedColumn[]> {
  const names = [...(columns ?? ds.columns)];
  const rows = at ?? ds.indices();
  const out: ExtractedColumn[] = [];
  for (const name of names) {
    throwIfAborted(signal, 'export');
    const c = ds.columnInfo(name);
    const media = c.htype === 'image' || c.htype === 'video';
    const meta =
      media && c.sampleCompression !== 'other' ? { ...c.meta, sampleCompression: c.sampleCompression } : c.meta;
    const base = { name, htype: c.htype, dtype: c.dtype, meta, spec: c.spec };
    if (c.htype === 'image' || c.htype === 'video' || c.htype === 'link') {
      const samples = await ds.readSamples(name, rows, { signal });
      const values = samples.map((s) =>
        s === null ? null : c.htype === 'link' ? new TextDecoder().decode(s.bytes) : s.bytes.slice(),
      );
      out.push({ ...base, values });
      continue;
    }
    const values = at ? await ds.readCells(name, at, { signal }) : await ds.values(name, { signal });
    if (c.htype === 'class_label') {
      const classNames = (c.meta.classNames as string[] | undefined) ?? [];
      out.push({
        ...base,
        values: values.map((v) => (v === null ? null : typeof v === 'string' ? classNames.indexOf(v) : v)),
      });
    } else if (
      c.htype === 'generic' &&
      (c.meta.shape !== undefined || tensors?.has(name) || values.some((v) => v !== null && typeof v === 'object'))
    ) {
      const shapes: (number[] | null)[] = [];
      const flat = values.map((v) => {
        if (v === null) {
          shapes.push(null);
          return null;
        }
        if (typeof v === 'object') {
          const t = v as Tensor;
          shapes.push([...t.shape]);
          return t.data;
        }
        shapes.push([]);
        return [v];
      });
      out.push({ ...base, values: flat, shapes });
    } else {
      out.push({ ...base, values });
    }
  }
  return out;
}

/** The ColumnSpec recorded in metadata: the htype plus its options. */
export function specFromMeta(
  name: string,
  htype: string,
  dtype: DType | undefined,
  meta: Record<string, unknown>,
): ColumnSpec {
  switch (htype) {
    case 'image':
    case 'video':
      return { htype, ...(meta.sampleCompression ? { sampleCompression: meta.sampleCompression as 'jpeg' } : {}) };
    case 'class_label':
      return { htype, classNames: (meta.classNames as string[]) ?? [] };
    case 'bbox':
      return { htype, format: (meta.format as 'ltrb') ?? 'ltrb', coords: (meta.coords as 'pixel') ?? 'pixel' };
    case 'embedding': {
      const { dim, ...rest } = meta;
      return { htype, dim: dim as number, meta: rest };
    }
    case 'link':
      return { htype, target: (meta.target as 'image') ?? 'image' };
    case 'generic':
      return { htype, dtype: dtype ?? 'float64', ...(meta.shape ? { shape: meta.shape as number[] } : {}) };
    case 'text':
    case 'json':
      return { htype };
    default:
      throw new StrataError('UNSUPPORTED', `column ${name} has htype ${htype}, unknown to this version of Strata`, {
        column: name,
        hint: 'upgrade Strata',
      });
  }
}

/** Rebuilds a generic cell from flat values and a shape. */
export function tensorValue(
  flat: ArrayLike<number | bigint> | null,
  shape: readonly number[] | null | undefined,
): unknown {
  if (flat === null) return null;
  if (shape && shape.length === 0) return flat[0];
  return { data: flat, shape: shape ?? [flat.length] };
}

export const SHAPE_SUFFIX = '__shape';
