import { throwIfAborted } from '../../errors.js';
import { readChunkStats } from '../../format/chunk-stats.js';
import type { DatasetCore } from '../core.js';
import type { Expr } from './ast.js';
import { type ColumnCondition, pushableConditions } from './conditions.js';
import { parseExpression } from './parse.js';

/** The rows a predicate may keep, judged from chunk statistics alone (no chunk is read). */
export interface PrunedRows {
  /** 1 at each position of the open version whose row may satisfy the predicate, 0 where no row can. */
  readonly candidates: Uint8Array;
  /** Positions marked 1. */
  readonly candidateCount: number;
  /** Chunks of the conditions' columns, and those the predicate may match (the ones a scan reads). */
  readonly chunks: number;
  readonly chunksKept: number;
  /** The conditions that pruned (none: every row is a candidate). */
  readonly conditions: readonly ColumnCondition[];
}

/**
 * Judges every chunk of the columns named by the predicate's top-level conjuncts (`col op literal`,
 * BETWEEN, IN, IS [NOT] NULL; e.g. DuckDB WHERE conjuncts) by its stored min/max/null count, and
 * returns the positions that may match: the intersection over conditions. Reads fragment files
 * only. A chunk without stats (older fragments) is always a candidate. The predicate is a parsed
 * expression or its text.
 */
export async function pruneRows(
  core: DatasetCore,
  predicate: Expr | string,
  options: { signal?: AbortSignal } = {},
): Promise<PrunedRows> {
  const e = typeof predicate === 'string' ? parseExpression(predicate) : predicate;
  const n = core.manifest.length;
  const conditions = pushableConditions(e, (name) => core.manifest.columns.find((c) => c.name === name));
  const candidates = new Uint8Array(n).fill(1);
  let chunks = 0;
  let chunksKept = 0;
  for (const cond of conditions) {
    throwIfAborted(options.signal, 'filter');
    const index = await core.reader(cond.column).index(options.signal);
    // Rows no chunk covers read as null.
    const mine = new Uint8Array(n).fill(cond.acceptsNull ? 1 : 0);
    for (let k = 0; k < index.chunkCount; k++) {
      const ref = index.ref(k);
      const stats = readChunkStats(ref.stats);
      const keep = stats === undefined || cond.mayMatch(stats, ref.samples);
      chunks++;
      if (keep) chunksKept++;
      mine.fill(keep ? 1 : 0, index.chunkStart(k), index.chunkStart(k) + index.chunkRows(k));
    }
    for (let i = 0; i < n; i++) candidates[i] &= mine[i];
  }
  let candidateCount = 0;
  for (let i = 0; i < n; i++) candidateCount += candidates[i];
  return { candidates, candidateCount, chunks, chunksKept, conditions };
}
