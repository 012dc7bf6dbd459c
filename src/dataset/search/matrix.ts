/** An embedding column's vectors as one matrix, loaded once per version. */
import { StrataError, throwIfAborted } from '../../errors.js';
import type { DatasetReader, VersionSummary } from '../read.js';
import { staleMask } from '../derived/row-lineage.js';
import { coreOf } from '../internal.js';

/** A scored row: `row` is its position in the searched version; score as in exact search (cosine/dot: higher, l2: distance). */
export interface RowHit {
  readonly row: number;
  readonly score: number;
}

/** One search result. */
export interface DatasetHit {
  /** The row's position in the searched version (it moves when earlier rows are deleted). */
  readonly row: number;
  /**
   * The row's stable id: kept across deletes of other rows, its own updates and compaction
   * (`ds.rowPosition(rowId)` finds the row in a later version).
   */
  readonly rowId: number;
  /** As in exact search: cosine and dot higher is closer, l2 is the distance. */
  readonly score: number;
}

/** A column's vectors as one row-major matrix (null rows zero, `valid` 0). */
export interface VectorMatrix {
  readonly dim: number;
  readonly rows: number;
  readonly vectors: Float32Array;
  readonly valid: Uint8Array;
  readonly allValid: boolean;
  norms?: Float32Array;
}

const matrices = new WeakMap<VersionSummary, Map<string, Promise<VectorMatrix>>>();

/** Loads (and caches per version) an embedding column as one matrix, chunk by chunk. */
export function loadMatrix(ds: DatasetReader, column: string, signal?: AbortSignal): Promise<VectorMatrix> {
  const manifest = ds.versionInfo;
  let m = matrices.get(manifest);
  if (!m) matrices.set(manifest, (m = new Map<string, Promise<VectorMatrix>>()));
  let p = m.get(column);
  if (!p) {
    p = readMatrix(ds, column, signal);
    p.catch(() => m.delete(column));
    m.set(column, p);
  }
  return p;
}

async function readMatrix(ds: DatasetReader, column: string, signal?: AbortSignal): Promise<VectorMatrix> {
  const c = ds.columnInfo(column);
  if (c.htype !== 'embedding' || c.dtype !== 'float32') {
    throw new StrataError('UNSUPPORTED', `column ${column} is ${c.htype}; search needs an embedding column`, {
      column,
      hint: 'search a column written by embed() or declared { htype: "embedding", dim }',
    });
  }
  const dim = c.meta.dim as number;
  const rows = ds.versionInfo.length;
  const vectors = new Float32Array(rows * dim);
  const valid = new Uint8Array(rows);
  let count = 0;
  for await (const run of ds.scanSamples(column, { end: rows, signal, prefetchChunks: 4 })) {
    throwIfAborted(signal, 'search');
    for (let j = 0; j < run.samples.length; j++) {
      const s = run.samples[j];
      if (s === null || s.bytes.byteLength !== dim * 4) continue;
      const r = run.start + j;
      const b = s.bytes;
      if (b.byteOffset % 4 === 0) vectors.set(new Float32Array(b.buffer, b.byteOffset, dim), r * dim);
      else new Uint8Array(vectors.buffer, r * dim * 4, dim * 4).set(b);
      valid[r] = 1;
      count++;
    }
  }
  // a stale vector (its input changed, or it was written by hand) is never a hit: see derived/row-lineage.ts
  const stale = await staleMask(coreOf(ds), column, signal);
  if (stale)
    for (let r = 0; r < rows; r++)
      if (stale[r] && valid[r]) {
        valid[r] = 0;
        count--;
      }
  return { dim, rows, vectors, valid, allValid: count === rows };
}
