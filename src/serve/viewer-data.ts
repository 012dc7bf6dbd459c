/**
 * What the viewer shows of a dataset: column roles (media, label, boxes, embedding), filter
 * parsing, and one page of rows as JSON (media as shapes and boxes as fractions, nothing decoded).
 */
import type { Dataset } from '../dataset/dataset.js';
import { render } from '../dataset/ops/format.js';
import { StrataError } from '../errors.js';
import { ImageCell, VideoCell } from '../dataset/cells.js';
import {
  COLUMN_KINDS,
  type ColumnKind,
  type ViewerColumn,
  type ViewerMedia,
  type ViewerRoles,
  type ViewerRow,
} from './viewer/wire.js';

export { COLUMN_KINDS };
export type { ColumnKind, ViewerColumn, ViewerMedia, ViewerRoles, ViewerRow };

const NUMERIC = new Set([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'float32',
  'float64',
  'bool',
]);

export function describeColumns(ds: Dataset): ViewerColumn[] {
  return ds.columns.map((name) => {
    const c = ds.columnInfo(name);
    const meta = c.meta as Record<string, unknown>;
    let kind: ColumnKind;
    if (c.htype === 'image' || (c.htype === 'link' && meta.target === 'image')) kind = 'image';
    else if (c.htype === 'video' || (c.htype === 'link' && meta.target === 'video')) kind = 'video';
    else if (c.htype === 'class_label') kind = 'label';
    else if (c.htype === 'bbox') kind = 'bbox';
    else if (c.htype === 'embedding') kind = 'embedding';
    else if (c.htype === 'text') kind = 'text';
    else if (c.htype === 'generic' && NUMERIC.has(c.dtype) && !(Array.isArray(meta.shape) && meta.shape.length > 0))
      kind = 'number';
    else kind = 'other';
    return {
      name,
      htype: c.htype,
      kind,
      filterable: kind === 'label' || kind === 'text' || kind === 'number',
      ...(kind === 'label' ? { classNames: (meta.classNames as string[]) ?? [] } : {}),
      ...(kind === 'embedding' ? { dim: Number(meta.dim) } : {}),
    };
  });
}

/** The first column of each role; `media` prefers `preferred` when given. */
export function pickRoles(
  columns: readonly ViewerColumn[],
  preferred?: { media?: string; embedding?: string },
): ViewerRoles {
  const first = (k: ColumnKind | ColumnKind[]) =>
    columns.find((c) => (Array.isArray(k) ? k : [k]).includes(c.kind))?.name;
  const media = preferred?.media ?? first(['image', 'video']);
  const embedding = preferred?.embedding ?? first('embedding');
  return { media, label: first('label'), bbox: first('bbox'), embedding };
}

/** `{ "label": "cat" }` or `{ "label": ["cat", "dog"] }`, checked against the columns and coerced to their types. */
export function parseFilter(
  raw: string | undefined,
  columns: readonly ViewerColumn[],
): Record<string, unknown> | undefined {
  if (raw === undefined || raw === '' || raw === '{}') return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw new StrataError('INVALID_ARGUMENT', `filter is not JSON: ${raw.slice(0, 80)}`, {
      field: 'filter',
      hint: 'pass e.g. {"label":"cat"}',
    });
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new StrataError('INVALID_ARGUMENT', 'filter must be a JSON object of column → value(s)', { field: 'filter' });
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const col = columns.find((c) => c.name === k);
    if (!col || !col.filterable) {
      throw new StrataError('INVALID_ARGUMENT', `cannot filter on column ${k}`, {
        field: 'filter',
        column: k,
        hint: `filterable columns: ${
          columns
            .filter((c) => c.filterable)
            .map((c) => c.name)
            .join(', ') || '(none)'
        }`,
      });
    }
    const coerce = (x: unknown) => (col.kind === 'number' && typeof x === 'string' && x !== '' ? Number(x) : x);
    out[k] = Array.isArray(v) ? v.map(coerce) : coerce(v);
  }
  return Object.keys(out).length ? out : undefined;
}

/** Rows `offset..offset+limit` of `view` as viewer rows. */
export async function pageRows(
  view: Dataset,
  offset: number,
  limit: number,
  roles: ViewerRoles,
  signal?: AbortSignal,
): Promise<ViewerRow[]> {
  const page = view.slice(offset, offset + limit);
  const physical = page.indices();
  const out: ViewerRow[] = [];
  let j = 0;
  for await (const batch of page.iterRows({ batchSize: Math.max(1, limit), signal })) {
    for (const r of batch) {
      out.push(toViewerRow(r, offset + j, physical[j], view, roles));
      j++;
    }
  }
  return out;
}

/** Rows at the given physical positions (search results), in that order. */
export async function rowsAt(
  ds: Dataset,
  physical: readonly number[],
  roles: ViewerRoles,
  signal?: AbortSignal,
): Promise<ViewerRow[]> {
  const out: ViewerRow[] = [];
  for (let j = 0; j < physical.length; j++) {
    const r = await ds.row(physical[j], { signal });
    out.push(toViewerRow(r, j, physical[j], ds, roles));
  }
  return out;
}

export function toViewerRow(
  r: Record<string, unknown>,
  index: number,
  row: number,
  ds: Dataset,
  roles: ViewerRoles,
): ViewerRow {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v instanceof ImageCell || v instanceof VideoCell) values[k] = v.toString();
    else if (v instanceof Float32Array && v.length > 8) values[k] = `[${v.length}-d vector]`;
    else values[k] = render(v);
  }
  const column = roles.media;
  const cell = column ? r[column] : undefined;
  let media: ViewerMedia | undefined;
  let width = 0;
  let height = 0;
  if (column && cell instanceof ImageCell) {
    height = cell.shape[0] ?? 0;
    width = cell.shape[1] ?? 0;
    media = { kind: 'image', column, width, height, format: cell.format };
  } else if (column && cell instanceof VideoCell) {
    width = cell.info.width;
    height = cell.info.height;
    media = {
      kind: 'video',
      column,
      width,
      height,
      durationS: cell.info.durationS,
      fps: cell.info.fps,
      frameCount: cell.info.frameCount,
    };
  }
  const label =
    roles.label && r[roles.label] !== null && r[roles.label] !== undefined ? String(r[roles.label]) : undefined;
  let boxes: number[][] | undefined;
  if (roles.bbox && Array.isArray(r[roles.bbox]) && width > 0 && height > 0) {
    const meta = ds.columnInfo(roles.bbox).meta as Record<string, unknown>;
    const format = typeof meta.format === 'string' ? meta.format : 'ltrb';
    boxes = (r[roles.bbox] as number[][]).map((b) =>
      toFractionalLtrb(b, format, meta.coords === 'fractional', width, height),
    );
  }
  return {
    index,
    row,
    ...(label !== undefined ? { label } : {}),
    ...(media ? { media } : {}),
    ...(boxes ? { boxes } : {}),
    values,
  };
}

/** One box in the column's format → [left, top, right, bottom] as fractions of the image. */
export function toFractionalLtrb(
  b: readonly number[],
  format: string,
  fractional: boolean,
  width: number,
  height: number,
): number[] {
  let [l, t, r, bt] = b;
  if (format === 'ltwh') [r, bt] = [l + r, t + bt];
  else if (format === 'ccwh') [l, t, r, bt] = [l - r / 2, t - bt / 2, l + r / 2, t + bt / 2];
  if (!fractional) [l, t, r, bt] = [l / width, t / height, r / width, bt / height];
  const c = (x: number) => Math.round(Math.max(0, Math.min(1, x)) * 1e4) / 1e4;
  return [c(l), c(t), c(r), c(bt)];
}
