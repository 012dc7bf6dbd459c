import type { Dataset } from '../../dataset/dataset.js';
import { codecFor } from '../../dataset/htypes/index.js';
import { infoColumnName } from '../../dataset/schema.js';
import { throwIfAborted } from '../../errors.js';

/**
 * Decoded cells of one stored column in row order, `batchRows` at a time: a whole dataset is read
 * by a chunk scan (about one chunk in memory plus read-ahead), a view by its row positions.
 * Media columns yield their info records.
 */
export async function* columnCells(
  ds: Dataset,
  column: string,
  batchRows: number,
  signal?: AbortSignal,
): AsyncGenerator<unknown[]> {
  const stored = ds.columnInfo(column).media ? infoColumnName(column) : column;
  const rows = ds.rows();
  if (!isWhole(ds, rows)) {
    for (let s = 0; s < rows.length; s += batchRows) {
      throwIfAborted(signal, 'sql');
      yield await ds.readCells(stored, rows.subarray(s, s + batchRows), { signal });
    }
    return;
  }
  const c = ds.columnInfo(stored);
  const codec = codecFor(c.htype, stored);
  let out: unknown[] = [];
  for await (const run of ds.scanSamples(stored, { start: 0, end: rows.length, signal })) {
    for (let j = 0; j < run.samples.length; j++) {
      out.push(codec.decode(run.samples[j], { column: stored, row: run.start + j, dtype: c.dtype, meta: c.meta }));
      if (out.length === batchRows) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}

/** True when the view is every row of its version in order (then a scan reads it). */
export function isWhole(ds: Dataset, rows: Uint32Array): boolean {
  if (rows.length !== ds.versionInfo.length) return false;
  for (let i = 0; i < rows.length; i++) if (rows[i] !== i) return false;
  return true;
}
