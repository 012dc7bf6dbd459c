import { createHash, randomBytes } from 'node:crypto';
import type { Dataset } from '../dataset.js';
import { coreOf } from '../internal.js';
import { StrataError } from '../../errors.js';
import { STRATA_VERSION } from '../../version.js';
import { loadMatrix, type RowHit } from './matrix.js';
import { HnswIndex, type HnswBuildOptions } from './hnsw.js';
import type { Metric } from './metrics.js';

export const INDEX_KINDS = ['hnsw'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

export interface CreateIndexOptions extends HnswBuildOptions {
  /** Default 'hnsw' (the only kind so far). */
  readonly kind?: IndexKind;
}

/** What `ds.meta.indexes[column]` records about a persisted index. */
export interface IndexEntry {
  readonly kind: IndexKind;
  /** Storage key of the index object, below the dataset root. */
  readonly key: string;
  readonly metric: Metric;
  /** Dataset version whose vectors the index holds. */
  readonly builtForVersion: number;
  /** sha256 of the column's length and chunk keys then: any write to the column changes it. */
  readonly fingerprint: string;
  /** Vectors indexed (non-null rows). */
  readonly vectors: number;
  readonly options: {
    readonly M: number;
    readonly efConstruction: number;
    readonly efSearch: number;
    readonly seed: number;
  };
  readonly createdAt: string;
  readonly strataVersion: string;
}

export interface IndexPlan {
  readonly method: 'exact' | 'hnsw';
  readonly reason: string;
}

/** A loaded index: searches in dataset row numbers. */
export interface LoadedIndex {
  readonly metric: Metric;
  search(query: Float32Array, options: { k: number; efSearch?: number; mask?: Uint8Array }): RowHit[];
}

const MAGIC = 0x31584953; // 'SIX1'
/** Below this share of rows left by a filter, exact search is used (a filtered graph walk loses recall). */
const MIN_FILTER_SHARE = 0.1;

/** Changes whenever the column's stored data or row positions do (chunk keys and deletion files across the version's fragments). */
export async function columnFingerprint(ds: Dataset, column: string): Promise<string> {
  const core = coreOf(ds);
  const c = core.columnManifest(column);
  const hash = createHash('sha256').update(c.id);
  for (const slot of await core.version.allFragments()) {
    hash.update(JSON.stringify([slot.ref.id, slot.ref.deletion])); // deletes move rows
    for (const s of (await core.version.fragment(slot.ref)).columns[c.id] ?? [])
      hash.update(JSON.stringify([slot.start + s.offset, s.rows, s.chunks.map((k) => k.key)]));
  }
  return hash.digest('hex');
}

function indexesOf(ds: Dataset): Record<string, IndexEntry> {
  return (ds.meta.indexes as Record<string, IndexEntry> | undefined) ?? {};
}

/**
 * Builds an HNSW index over the non-null vectors of `column`, stores it as one object under
 * `indexes/` in the dataset's storage, and records it (with the version it was built for) in the
 * dataset metadata through a commit. Searches use it while the column is unchanged.
 */
export async function createIndex(ds: Dataset, column: string, options: CreateIndexOptions = {}): Promise<IndexEntry> {
  const kind = options.kind ?? 'hnsw';
  if (!INDEX_KINDS.includes(kind)) {
    throw new StrataError('INVALID_ARGUMENT', `index kind '${kind}' is not supported`, {
      field: 'kind',
      hint: `use one of ${INDEX_KINDS.join(', ')}`,
    });
  }
  if (ds.length !== ds.versionInfo.length) {
    throw new StrataError('INVALID_ARGUMENT', `createIndex is not allowed on a view of ${ds.uri}`, {
      hint: 'call it on the dataset itself',
    });
  }
  const m = await loadMatrix(ds, column, options.signal);
  const ids = new Uint32Array(m.rows);
  let n = 0;
  for (let r = 0; r < m.rows; r++) if (m.valid[r]) ids[n++] = r;
  let vectors = m.vectors;
  if (n !== m.rows) {
    vectors = new Float32Array(n * m.dim);
    for (let i = 0; i < n; i++) vectors.set(m.vectors.subarray(ids[i] * m.dim, (ids[i] + 1) * m.dim), i * m.dim);
  }
  const index = await HnswIndex.build(vectors, m.dim, options);
  const graph = index.serialize();
  const builtForVersion = ds.version;
  const key = `indexes/${ds.columnInfo(column).id}-v${builtForVersion}-${randomBytes(6).toString('hex')}.hnsw`;
  const head = new TextEncoder().encode(JSON.stringify({ column, builtForVersion, vectors: n }));
  const headPad = (head.length + 3) & ~3;
  const bytes = new Uint8Array(12 + headPad + n * 4 + graph.byteLength);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, head.length, true);
  dv.setUint32(8, n, true);
  bytes.set(head, 12);
  new Uint32Array(bytes.buffer, 12 + headPad, n).set(ids.subarray(0, n));
  bytes.set(graph, 12 + headPad + n * 4);
  await coreOf(ds).storage.put(key, bytes, { signal: options.signal });
  const o = index.options;
  const entry: IndexEntry = {
    kind,
    key,
    metric: index.metric,
    builtForVersion,
    fingerprint: await columnFingerprint(ds, column),
    vectors: n,
    options: { M: o.M, efConstruction: o.efConstruction, efSearch: o.efSearch, seed: o.seed },
    createdAt: new Date().toISOString(),
    strataVersion: STRATA_VERSION,
  };
  ds.setMeta({ indexes: { ...indexesOf(ds), [column]: entry } });
  await ds.commit(`create ${kind} index on ${column} (built for version ${builtForVersion})`);
  return entry;
}

const loaded = new Map<string, Promise<LoadedIndex>>();

async function loadIndex(ds: Dataset, entry: IndexEntry): Promise<LoadedIndex> {
  const bytes = await coreOf(ds).storage.get(entry.key);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || dv.getUint32(0, true) !== MAGIC) {
    throw new StrataError('CORRUPT', `index object ${entry.key} of ${ds.uri} is damaged`, {
      key: entry.key,
      uri: ds.uri,
      hint: 'rebuild it with createIndex',
    });
  }
  const headPad = (dv.getUint32(4, true) + 3) & ~3;
  const n = dv.getUint32(8, true);
  const at = 12 + headPad;
  const ids = new Uint32Array(n);
  new Uint8Array(ids.buffer).set(bytes.subarray(at, at + n * 4));
  const graph = bytes.slice(at + n * 4);
  const index = HnswIndex.deserialize(graph);
  return {
    metric: index.metric,
    search(query, o) {
      let filter: Uint8Array | undefined;
      if (o.mask) {
        filter = new Uint8Array(n);
        for (let i = 0; i < n; i++) filter[i] = o.mask[ids[i]];
      }
      return index
        .search(query, { k: o.k, efSearch: o.efSearch, filter })
        .map((h) => ({ row: ids[h.row], score: h.score }));
    },
  };
}

/** Picks exact search or the column's index (loading it once per object), warning when it is stale. */
export async function currentIndex(
  ds: Dataset,
  column: string,
  o: {
    metric?: Metric;
    exact?: boolean;
    mask?: Uint8Array;
    rows: number;
    warn: (message: string, code: string) => void;
    signal?: AbortSignal;
  },
): Promise<IndexPlan & { index?: LoadedIndex }> {
  const entry = indexesOf(ds)[column];
  if (!entry) return { method: 'exact', reason: 'no index' };
  if (o.exact) return { method: 'exact', reason: 'exact requested' };
  if (entry.fingerprint !== (await columnFingerprint(ds, column))) {
    o.warn(
      `the ${entry.kind} index on ${column} of ${ds.uri} was built for version ${entry.builtForVersion} and the column has changed since ` +
        `(now version ${ds.version}); it is ignored and exact search is used. Rebuild it with ds.createIndex('${column}')`,
      'STRATA_STALE_INDEX',
    );
    return { method: 'exact', reason: `stale index (built for version ${entry.builtForVersion})` };
  }
  if (o.metric !== undefined && o.metric !== entry.metric)
    return { method: 'exact', reason: `index metric is ${entry.metric}` };
  if (o.mask) {
    let kept = 0;
    for (let i = 0; i < o.mask.length; i++) kept += o.mask[i];
    if (kept < MIN_FILTER_SHARE * entry.vectors)
      return { method: 'exact', reason: `filter keeps ${kept} of ${entry.vectors} rows` };
  }
  const cacheKey = `${ds.uri}|${entry.key}`;
  let p = loaded.get(cacheKey);
  if (!p) {
    p = loadIndex(ds, entry);
    p.catch(() => loaded.delete(cacheKey));
    loaded.set(cacheKey, p);
    while (loaded.size > 4) loaded.delete(loaded.keys().next().value as string);
  }
  return { method: 'hnsw', reason: `index built for version ${entry.builtForVersion}`, index: await p };
}
