import { ImageCell } from '../cells.js';
import type { Dataset } from '../dataset.js';
import type { RowMatch, RowPredicate } from '../verbs/filter.js';
import { StrataError } from '../../errors.js';
import { currentIndex, type IndexPlan } from './index-store.js';
import { keyToScore, scanExact } from './exact.js';
import { checkK, checkMetric, checkQuery, TopK, vectorNorms, type Metric, type RowFilter } from './metrics.js';
import { type QueryEmbedOptions, type QueryEmbedder, queryEmbedder } from './query-embedder.js';
import { coreOf } from '../internal.js';
import { type DatasetHit, type RowHit, type VectorMatrix, loadMatrix } from './matrix.js';

export type { DatasetHit } from './matrix.js';

/**
 * What to search for, tagged by kind: a vector; an encoded image (bytes or an ImageCell), embedded
 * with the column's model; a text (text embedding columns; uses `options.tokenizer` when given); or a
 * row of this dataset, whose vector is used (or, when it has none yet, its image or text is embedded).
 * Images and texts are embedded by the query embedder (see query-embedder.ts).
 */
export type SearchQuery =
  | { readonly vector: ArrayLike<number> }
  | { readonly image: Uint8Array | ImageCell }
  | { readonly text: string }
  | { readonly row: number };

export interface DatasetSearchOptions extends QueryEmbedOptions {
  /** Embeds image and text queries. Default: the one src/embed installs (the package entry loads it). */
  readonly embedQuery?: QueryEmbedder;
  /** Results. Default 10. */
  readonly k?: number;
  /** Default: the index's metric when one is current, else 'cosine'. */
  readonly metric?: Metric;
  /**
   * Rows to consider (dataset row numbers): a Uint8Array mask or a list of rows, a `{ column: value }`
   * match, or a predicate (as in `ds.filter`). A view (`ds.filter(...).search(...)`) restricts too.
   */
  readonly filter?: RowFilter | RowMatch | RowPredicate;
  /** Search this version instead (time travel). */
  readonly version?: number;
  /** Ignore any ANN index. Default false. */
  readonly exact?: boolean;
  /** HNSW candidate list size. Default: the index's. */
  readonly efSearch?: number;
  /** Receives a warning (e.g. a stale index). Default: process.emitWarning. */
  readonly onWarning?: (message: string, code: string) => void;
}

export interface DatasetSearchResult {
  readonly hits: DatasetHit[];
  /** 'exact' or 'hnsw', and why. */
  readonly plan: IndexPlan;
}

/** Dataset rows a search may return: view ∩ filter ∩ non-null, as a mask (undefined: all rows). */
async function allowedRows(
  ds: Dataset,
  m: VectorMatrix,
  filter: DatasetSearchOptions['filter'],
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  let mask: Uint8Array | undefined = m.allValid ? undefined : m.valid.slice();
  const restrict = (rows: ArrayLike<number>): void => {
    const keep = new Uint8Array(m.rows);
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j];
      if (!(Number.isInteger(r) && r >= 0 && r < m.rows)) {
        throw new StrataError('INVALID_ARGUMENT', `filter row ${r} is outside 0..${m.rows - 1}`, {
          field: 'filter',
          row: r,
        });
      }
      keep[r] = 1;
    }
    if (mask) for (let i = 0; i < m.rows; i++) mask[i] &= keep[i];
    else mask = keep;
  };
  const view = ds.rows();
  if (!isIdentity(view, m.rows)) restrict(view);
  if (filter instanceof Uint8Array) {
    if (filter.length !== m.rows) {
      throw new StrataError('INVALID_ARGUMENT', `filter mask has ${filter.length} entries for ${m.rows} rows`, {
        field: 'filter',
      });
    }
    const rows: number[] = [];
    for (let i = 0; i < filter.length; i++) if (filter[i] !== 0) rows.push(i);
    restrict(rows);
  } else if (Array.isArray(filter) || filter instanceof Uint32Array || filter instanceof Int32Array) {
    restrict(filter as ArrayLike<number>);
  } else if (filter !== undefined) {
    restrict((await ds.filter(filter as RowPredicate | RowMatch).collect({ signal })).indices());
  }
  return mask;
}

function isIdentity(rows: Uint32Array, n: number): boolean {
  if (rows.length !== n) return false;
  for (let i = 0; i < n; i++) if (rows[i] !== i) return false;
  return true;
}

async function resolveQuery(
  ds: Dataset,
  column: string,
  m: VectorMatrix,
  query: SearchQuery,
  options: DatasetSearchOptions,
): Promise<Float32Array> {
  const q = checkQueryShape(query);
  if ('vector' in q) return checkQuery(q.vector, m.dim);
  let input: Uint8Array | ImageCell | string;
  if ('row' in q) {
    const row = q.row;
    if (!(Number.isInteger(row) && row >= 0 && row < m.rows)) {
      throw new StrataError('INVALID_ARGUMENT', `query row ${row} is outside 0..${m.rows - 1}`, {
        field: 'query',
        row,
        column,
      });
    }
    if (m.valid[row]) return m.vectors.slice(row * m.dim, (row + 1) * m.dim);
    const source = sourceColumnOf(ds.columnMeta(column));
    const cell = source === undefined ? null : (await ds.readCells(source, [row], options))[0];
    if (!(cell instanceof ImageCell) && typeof cell !== 'string') {
      throw new StrataError('INVALID_ARGUMENT', `row ${row} has no vector in ${column} and no image or text to embed`, {
        field: 'query',
        row,
        column,
        hint: 'pass { vector } or { image }',
      });
    }
    input = cell;
  } else {
    input = 'text' in q ? q.text : q.image;
  }
  const meta = ds.columnMeta(column);
  if (meta.lineage === undefined) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `column ${column} has no embedding lineage, so ${typeof input === 'string' ? 'a text' : 'an image'} query cannot be embedded`,
      {
        column,
        field: 'query',
        hint: 'pass { vector }, or search a column written by embed()',
      },
    );
  }
  const embed = queryEmbedder(options.embedQuery, column);
  if (typeof input === 'string') return embed({ text: input }, { name: column, meta }, options);
  const bytes = input instanceof ImageCell ? await input.bytes({ signal: options.signal }) : input;
  return embed({ image: bytes }, { name: column, meta }, options);
}

/** The column an embedding column was computed from (its lineage's `sourceColumn`), if recorded. */
function sourceColumnOf(meta: Readonly<Record<string, unknown>>): string | undefined {
  const lineage = meta.lineage as { sourceColumn?: unknown } | undefined;
  return typeof lineage?.sourceColumn === 'string' ? lineage.sourceColumn : undefined;
}

/** The query as one of its four tagged forms, or INVALID_ARGUMENT saying which forms exist. */
function checkQueryShape(query: SearchQuery): SearchQuery {
  const q = query as unknown;
  const kinds =
    q !== null && typeof q === 'object' && !ArrayBuffer.isView(q) && !Array.isArray(q) && !(q instanceof ImageCell)
      ? (['vector', 'image', 'text', 'row'] as const).filter((k) => k in q)
      : [];
  const ok =
    kinds.length === 1 &&
    ((kinds[0] === 'vector' && isArrayLike((q as { vector: unknown }).vector)) ||
      (kinds[0] === 'image' &&
        ((q as { image: unknown }).image instanceof Uint8Array ||
          (q as { image: unknown }).image instanceof ImageCell)) ||
      (kinds[0] === 'text' && typeof (q as { text: unknown }).text === 'string') ||
      (kinds[0] === 'row' && typeof (q as { row: unknown }).row === 'number'));
  if (!ok) {
    throw new StrataError('INVALID_ARGUMENT', 'a search query must be { vector }, { image }, { text } or { row }', {
      field: 'query',
      hint: 'e.g. ds.search("embedding", { vector: [0.1, 0.2, ...] }) or ds.search("embedding", { row: 3 })',
    });
  }
  return query;
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** `ds.search` with the plan it used (exact or HNSW, and why). */
export async function searchDataset(
  dataset: Dataset,
  column: string,
  query: SearchQuery,
  options: DatasetSearchOptions = {},
): Promise<DatasetSearchResult> {
  const ds =
    options.version === undefined ? dataset : await dataset.checkout(options.version, { signal: options.signal });
  const k = checkK(options.k ?? 10);
  const m = await loadMatrix(ds, column, options.signal);
  const q = await resolveQuery(ds, column, m, query, options);
  const mask = await allowedRows(ds, m, options.filter, options.signal);
  const warn = options.onWarning ?? ((msg: string, code: string) => process.emitWarning(msg, { code }));
  const plan = await currentIndex(ds, column, {
    metric: options.metric,
    exact: options.exact,
    mask,
    rows: m.rows,
    signal: options.signal,
    warn,
  });
  const metric = checkMetric(options.metric ?? plan.index?.metric ?? 'cosine');
  let hits: RowHit[];
  if (plan.index) hits = plan.index.search(q, { k, efSearch: options.efSearch, mask });
  else {
    if (metric === 'cosine') m.norms ??= vectorNorms(m.vectors, m.dim);
    const top = new TopK(k);
    scanExact(m.vectors, m.dim, q, top, { metric, norms: metric === 'cosine' ? m.norms : undefined, filter: mask });
    hits = top.sorted(keyToScore(metric));
  }
  return { hits: await withRowIds(ds, hits, options.signal), plan: { method: plan.method, reason: plan.reason } };
}

/** Adds each hit's stable row id (read from the fragments the hits fall in, each once). */
async function withRowIds(ds: Dataset, hits: readonly RowHit[], signal?: AbortSignal): Promise<DatasetHit[]> {
  const v = coreOf(ds).version;
  const idsByFragment = new Map<number, Promise<number[]>>();
  return Promise.all(
    hits.map(async (h) => {
      const slot = await v.slotAt(h.row, signal);
      let ids = idsByFragment.get(slot.start);
      if (!ids) idsByFragment.set(slot.start, (ids = v.rowIdsOf(slot, signal)));
      return { row: h.row, rowId: (await ids)[h.row - slot.start], score: h.score };
    }),
  );
}

/** Top-k rows of this dataset (or view) by similarity of `column` to `query`. */
export async function search(
  ds: Dataset,
  column: string,
  query: SearchQuery,
  options: DatasetSearchOptions = {},
): Promise<DatasetHit[]> {
  return (await searchDataset(ds, column, query, options)).hits;
}
