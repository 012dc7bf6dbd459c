import path from 'node:path';
import { StrataError } from '../errors.js';
import type { ColumnSpecInput } from '../dataset/schema.js';
import type { DType } from '../format/dtype.js';
import type { LinkResolver } from '../dataset/links.js';
import type { Storage } from '../storage/storage.js';
import { parseTable, tableFormatOf } from './table.js';

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'tif', 'tiff', 'bmp'] as const;
export const VIDEO_EXTENSIONS = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v'] as const;
export const INGEST_LAYOUTS = ['auto', 'imagefolder', 'table'] as const;
export type IngestLayout = (typeof INGEST_LAYOUTS)[number];
export type MediaKind = 'image' | 'video';

export function mediaKindOf(file: string): MediaKind | undefined {
  const ext = file.toLowerCase().split('.').pop() ?? '';
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return 'image';
  if ((VIDEO_EXTENSIONS as readonly string[]).includes(ext)) return 'video';
  return undefined;
}

/** One file to ingest: where it is, which media column it goes to, and its other column values. */
export interface IngestItem {
  /** Identity recorded in the source column: the key below the source root (or the URL as written in the table). */
  readonly id: string;
  /** Key in the source storage, or undefined when the table names an absolute path / URL. */
  readonly key?: string;
  /** URL for link mode and for files outside the source. */
  readonly url: string;
  readonly kind: MediaKind;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface SourcePlan {
  readonly layout: 'imagefolder' | 'table';
  readonly items: IngestItem[];
  /** Columns besides the media, source and label columns, with their specs (table layout). */
  readonly tabular: Record<string, ColumnSpecInput>;
  /** Class label column name and the class names seen, in order of first appearance (sorted for ImageFolder). */
  readonly labels: Map<string, string[]>;
  /** Files listed but not ingestable (unknown extension in an ImageFolder, bad table rows). */
  readonly ignored: { file: string; reason: string }[];
}

export interface PlanOptions {
  readonly layout: IngestLayout;
  readonly table?: string;
  readonly pathColumn?: string;
  readonly schema?: Readonly<Record<string, ColumnSpecInput>>;
  readonly labelColumn: string;
  readonly boxColumns?: Readonly<Record<string, readonly [string, string, string, string]>>;
}

/** URL of a key in a storage (the last path segment escaped, as links resolve it). */
export function urlOf(storage: Storage, key: string): string {
  const base = storage.uri.replace(/\/+$/, '');
  const cut = key.lastIndexOf('/');
  const dir = cut < 0 ? '' : `/${key.slice(0, cut)}`;
  return `${base}${dir}/${encodeURIComponent(key.slice(cut + 1))}`;
}

/** Lists the source and turns it into items, following the layout. */
export async function planSource(source: Storage, options: PlanOptions, signal?: AbortSignal): Promise<SourcePlan> {
  const keys = (await source.list('', { signal })).filter((k) => !k.split('/').some((p) => p.startsWith('.')));
  if (keys.length === 0) {
    // A folder that does not exist lists nothing, like an S3 prefix: refuse before a dataset is created.
    throw new StrataError('NOT_FOUND', `ingest: ${source.uri} does not exist or holds no files`, {
      uri: source.uri,
      hint: 'check the path: ingest reads a folder or s3:// prefix of images/videos (with or without a table)',
    });
  }
  let layout = options.layout;
  let table = options.table;
  if (layout === 'auto') {
    if (!table) {
      const tables = keys.filter((k) => !k.includes('/') && tableFormatOf(k));
      if (tables.length === 1) table = tables[0];
      else if (tables.length > 1) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `ingest: ${source.uri} has several table files (${tables.join(', ')})`,
          {
            uri: source.uri,
            hint: "pass { table: 'name.csv' }, or { layout: 'imagefolder' }",
          },
        );
      }
    }
    layout = table ? 'table' : 'imagefolder';
  }
  return layout === 'table' ? planTable(source, keys, table, options, signal) : planImageFolder(source, keys, options);
}

function planImageFolder(source: Storage, keys: string[], options: PlanOptions): SourcePlan {
  const items: IngestItem[] = [];
  const ignored: { file: string; reason: string }[] = [];
  const classes = new Set<string>();
  for (const key of keys) {
    const kind = mediaKindOf(key);
    const parts = key.split('/');
    if (!kind) {
      if (!tableFormatOf(key)) ignored.push({ file: key, reason: 'not an image or video file (by extension)' });
      continue;
    }
    if (parts.length < 2) {
      ignored.push({ file: key, reason: 'not inside a class folder (<class>/<file>)' });
      continue;
    }
    const label = parts[parts.length - 2];
    classes.add(label);
    items.push({ id: key, key, url: urlOf(source, key), kind, values: { [options.labelColumn]: label } });
  }
  return {
    layout: 'imagefolder',
    items,
    tabular: {},
    labels: new Map([[options.labelColumn, [...classes].sort()]]),
    ignored,
  };
}

const PATH_COLUMNS = ['file', 'path', 'filename', 'file_name', 'image', 'video', 'uri', 'url'];

async function planTable(
  source: Storage,
  keys: string[],
  table: string | undefined,
  options: PlanOptions,
  signal?: AbortSignal,
): Promise<SourcePlan> {
  if (!table)
    throw new StrataError('INVALID_ARGUMENT', `ingest: no table file found at the root of ${source.uri}`, {
      uri: source.uri,
      hint: "pass { table: 'labels.csv' }",
    });
  const { records, dtypes } = await parseTable(source, table, signal);
  for (const [name, parts] of Object.entries(options.boxColumns ?? {})) {
    for (const rec of records) {
      const v = parts.map((p) => rec[p]);
      for (const p of parts) delete rec[p];
      rec[name] = v.every((x) => typeof x === 'number') ? [v] : null;
    }
  }
  const header = new Set(records.flatMap((r) => Object.keys(r)));
  const pathColumn = options.pathColumn ?? PATH_COLUMNS.find((c) => header.has(c));
  if (!pathColumn || !header.has(pathColumn)) {
    throw new StrataError('INVALID_ARGUMENT', `ingest: table ${table} has no file path column`, {
      file: table,
      hint: `name it one of ${PATH_COLUMNS.join(', ')}, or pass { pathColumn }`,
    });
  }
  const present = new Set(keys);
  const baseDir = path.posix.dirname(table) === '.' ? '' : path.posix.dirname(table);
  const items: IngestItem[] = [];
  const ignored: { file: string; reason: string }[] = [];
  const seen = new Set<string>();
  const columns = [...header].filter((c) => c !== pathColumn);
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    const p = rec[pathColumn];
    if (typeof p !== 'string' || p === '') {
      ignored.push({ file: `${table}:${r + 2}`, reason: `no path in column ${pathColumn}` });
      continue;
    }
    const kind = mediaKindOf(p);
    if (!kind) {
      ignored.push({ file: p, reason: 'not an image or video file (by extension)' });
      continue;
    }
    const external = /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || path.isAbsolute(p);
    const key = external ? undefined : path.posix.normalize(path.posix.join(baseDir, p)).replace(/^\.\//, '');
    const id = key ?? p;
    if (seen.has(id)) {
      ignored.push({ file: id, reason: `listed again on line ${r + 2} of ${table}` });
      continue;
    }
    seen.add(id);
    if (key !== undefined && (key.startsWith('../') || !present.has(key))) {
      ignored.push({ file: id, reason: 'file not found in the source' });
      continue;
    }
    const values = Object.fromEntries(columns.map((c) => [c, rec[c] ?? null]));
    items.push({ id, key, url: key === undefined ? p : urlOf(source, key), kind, values });
  }
  const tabular: Record<string, ColumnSpecInput> = {};
  const labels = new Map<string, string[]>();
  for (const c of columns) {
    const spec =
      options.schema?.[c] ??
      inferSpec(
        c,
        items.map((it) => it.values[c]),
        dtypes[c],
      );
    tabular[c] = spec;
    if (spec === 'class_label' || (typeof spec === 'object' && spec.htype === 'class_label')) {
      const names: string[] = [];
      for (const it of items) {
        const v = it.values[c];
        if (typeof v === 'string' && !names.includes(v)) names.push(v);
      }
      labels.set(c, names);
    }
  }
  return { layout: 'table', items, tabular, labels, ignored };
}

/** Column type from the values (see README of ingest): names like label/class → class_label, box columns → bbox;
 * then the type the table file declares (`declared`, Parquet), else one that holds every value. */
export function inferSpec(name: string, values: unknown[], declared?: DType): ColumnSpecInput {
  const vs = values.filter((v) => v !== null && v !== undefined);
  if (vs.length === 0) return declared ?? 'text';
  if (
    /^(label|labels|class|category)$/i.test(name) &&
    vs.every((v) => typeof v === 'string' || (Number.isInteger(v) && (v as number) >= 0))
  )
    return 'class_label';
  if (/box/i.test(name) && vs.every(isBoxes)) return { htype: 'bbox', format: 'ltrb' };
  if (declared) return declared;
  if (vs.every((v) => typeof v === 'boolean')) return 'bool';
  if (vs.every((v) => typeof v === 'number')) {
    return vs.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31) ? 'int32' : 'float64';
  }
  if (vs.every((v) => typeof v === 'string')) return 'text';
  return 'json';
}

function isBoxes(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 4 && v.every((x) => typeof x === 'number')) return true;
  return v.every((b) => Array.isArray(b) && b.length === 4 && b.every((x) => typeof x === 'number'));
}

/** The bytes of an item: from the source storage, or through the link resolver for external files. */
export async function readItem(
  source: Storage,
  item: IngestItem,
  links: LinkResolver,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (item.key !== undefined) return source.get(item.key, { signal });
  const f = await links.resolve(item.url);
  return f.storage.get(f.key, { signal });
}
