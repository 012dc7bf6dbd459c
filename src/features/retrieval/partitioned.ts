/**
 * Jobs larger than memory: when a source's loaded size times the engine's working factor exceeds
 * `memoryLimitBytes`, its events are spilled into P entity-hash partitions (sources/spill.ts) and
 * backfill / training sets (and `latestValues`, latest.ts) run partition by partition with the same engine; the outputs are merged
 * back into the order the in-memory engine gives (tiles by entity in first-appearance order, then
 * tile; training set rows in entity-row order), so the results are identical.
 */
import * as A from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { dtypeOfArrow } from '../definitions/dtypes.js';
import { numericVector } from '../engine/build.js';
import { canonical, readCoded, readNumeric } from '../engine/columns.js';
import type { ViewPlan } from '../engine/plan.js';
import type { KeyIndex } from '../engine/keys.js';
import { takeVector } from '../engine/take.js';
import { MAX_PARTITIONS, SPILL_ROW } from '../sources/spill.js';
import { groupLabel } from './backfill.js';

/** Default `memoryLimitBytes`: 512 MiB. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 512 * 1024 * 1024;
/**
 * Engine working memory (the partition's columns, codes, times, sort permutations, tiles) per byte
 * of loaded source, calibrated from the peak RSS of 30 M-event backfills (docs/PERFORMANCE.md).
 */
export const ENGINE_BYTES_PER_SOURCE_BYTE = 5;
/**
 * Share of `memoryLimitBytes` one partition's working set may use: the rest is for what a job holds
 * across partitions (the outputs collected so far, the spill buffers while spilling) and memory the
 * allocator has not yet handed back after the previous partition.
 */
export const PARTITION_SHARE_OF_LIMIT = 0.5;

/** Memory options of backfill, training sets and `latestValues` (materialize). */
export interface MemoryOptions {
  /**
   * Working memory a job may use. A source whose loaded size (about its file size; Parquet's times
   * 1.6) times 5 exceeds half of it is split by entity into spill files and processed one partition
   * at a time; results are identical. The process itself and the job's output come on top (see
   * docs/FEATURES.md). Default 512 MiB (or the repo's).
   */
  readonly memoryLimitBytes?: number;
  /** Folder for spill files (a temporary folder inside it is removed afterwards). Default `os.tmpdir()`. */
  readonly spillDir?: string;
}

/** Checks a memory limit: a positive number. */
export function checkMemoryLimit(bytes: number | undefined, field = 'memoryLimitBytes'): number | undefined {
  if (bytes === undefined) return undefined;
  if (!(bytes > 0))
    throw new StrataError('INVALID_ARGUMENT', `${field} must be a positive number of bytes, got ${bytes}`, {
      field,
      hint: 'e.g. 536870912 for 512 MiB',
    });
  return bytes;
}

/**
 * Partitions for a source of `sourceBytes` (loaded) under `limitBytes`: 1 (in memory) when its
 * working set fits the partition share of the limit, else enough that each partition's does.
 */
export function partitionCount(sourceBytes: number, limitBytes: number): number {
  const need = sourceBytes * ENGINE_BYTES_PER_SOURCE_BYTE;
  const budget = limitBytes * PARTITION_SHARE_OF_LIMIT;
  if (!(need > budget)) return 1;
  return Math.min(MAX_PARTITIONS, Math.max(2, Math.ceil(need / budget)));
}

/** Per entity code, the source row number (SPILL_ROW) of its first event in a partition's table. */
export function firstRows(table: A.Table, codes: Int32Array, keys: KeyIndex): Float64Array {
  const first = new Float64Array(keys.size).fill(Infinity);
  const rowCol = table.getChild(SPILL_ROW);
  const rows = rowCol ? readNumeric(rowCol)!.values : null;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c >= 0 && first[c] === Infinity) first[c] = rows ? rows[i] : i;
  }
  return first;
}

/** One partition's output: its table and, per row, the sort key of the merge (rows ascending in it). */
export interface PartOutput {
  readonly table: A.Table;
  readonly order: Float64Array;
}

/** Columns of `parts`' tables concatenated, then rows `perm` of them. */
function gather(parts: readonly A.Table[], perm: Int32Array): A.Table {
  const first = parts[0];
  const cols: Record<string, A.Vector> = {};
  for (const f of first.schema.fields) {
    const chunks = parts.flatMap((t) => t.getChild(f.name)!.data);
    cols[f.name] = takeVector(new A.Vector(chunks), perm);
  }
  return new A.Table(cols);
}

/** Merges partition outputs whose rows ascend by `order` into one table ascending by it (stable). */
export function mergeOrdered(parts: readonly PartOutput[]): A.Table {
  const live = parts.filter((p) => p.table.numRows > 0);
  if (live.length === 0) return parts[0]?.table ?? new A.Table();
  const base = new Int32Array(live.length + 1);
  live.forEach((p, j) => (base[j + 1] = base[j] + p.table.numRows));
  const total = base[live.length];
  const perm = new Int32Array(total);
  const at = new Int32Array(live.length);
  for (let k = 0; k < total; k++) {
    let best = -1;
    let bestKey = Infinity;
    for (let j = 0; j < live.length; j++) {
      if (at[j] >= live[j].table.numRows) continue;
      const key = live[j].order[at[j]];
      if (best < 0 || key < bestKey) {
        best = j;
        bestKey = key;
      }
    }
    // a run of this partition's rows with the same key (one entity's tiles) moves at once
    const o = live[best].order;
    do perm[k++] = base[best] + at[best]++;
    while (at[best] < o.length && o[at[best]] === bestKey);
    k--;
  }
  return gather(
    live.map((p) => p.table),
    perm,
  );
}

/** Puts partition outputs back in row order: part j's row r was row `rowsOf[j][r]`. */
export function scatterRows(parts: readonly A.Table[], rowsOf: readonly Int32Array[], n: number): A.Table {
  const perm = new Int32Array(n);
  let base = 0;
  parts.forEach((t, j) => {
    const rows = rowsOf[j];
    for (let r = 0; r < rows.length; r++) perm[rows[r]] = base + r;
    base += t.numRows;
  });
  return gather(parts, perm);
}

/** A partition's dictionary of one coded group: code → value, and code → source row of its first use. */
export interface PartDict {
  readonly values: readonly unknown[];
  readonly first: Float64Array;
}

/**
 * The dictionaries of the plan's coded groups in a partition's table (null for other groups), in
 * the order the engine codes them (first use in the table).
 */
export function partDicts(plan: ViewPlan, table: A.Table): (PartDict | null)[] {
  const rowCol = table.getChild(SPILL_ROW);
  const rows = rowCol ? readNumeric(rowCol)!.values : null;
  return plan.groups.map((g) => {
    if (!g.coded || g.column === null) return null;
    const col = table.getChild(g.column);
    if (!col) return null;
    const coded = readCoded(col);
    if (!coded.dict) return null;
    const first = new Float64Array(coded.dict.length).fill(Infinity);
    for (let i = 0; i < coded.values.length; i++) {
      if (coded.valid && !coded.valid[i]) continue;
      const c = coded.values[i];
      if (first[c] === Infinity) first[c] = rows ? rows[i] : i;
    }
    return { values: coded.dict, first };
  });
}

/**
 * Rewrites the coded groups' `__first` / `__last` columns of each partition's tiles from the
 * partition's dictionary codes to the codes the whole source gives (values by first use in it).
 */
export function recodeTiles(
  plan: ViewPlan,
  tiles: readonly A.Table[],
  dicts: readonly (PartDict | null)[][],
): A.Table[] {
  const out = tiles.slice();
  plan.groups.forEach((g, gi) => {
    if (!g.coded) return;
    const firstUse = new Map<unknown, number>();
    for (const d of dicts) {
      const pd = d[gi];
      if (!pd) continue;
      pd.values.forEach((v, c) => {
        const key = canonical(v);
        const was = firstUse.get(key);
        if (was === undefined || pd.first[c] < was) firstUse.set(key, pd.first[c]);
      });
    }
    const global = new Map([...firstUse].sort((a, b) => a[1] - b[1]).map(([k], code) => [k, code]));
    const label = groupLabel(plan, gi);
    out.forEach((t, j) => {
      const pd = dicts[j][gi];
      if (!pd) return;
      const remap = Float64Array.from(pd.values, (v) => global.get(canonical(v)) ?? -1);
      const cols: Record<string, A.Vector> = {};
      for (const f of t.schema.fields) {
        const vec = t.getChild(f.name)!;
        if (f.name !== `${label}__first` && f.name !== `${label}__last`) {
          cols[f.name] = vec;
          continue;
        }
        const num = readNumeric(vec)!;
        const v = new Float64Array(num.values.length);
        for (let r = 0; r < v.length; r++) v[r] = num.valid && !num.valid[r] ? 0 : remap[num.values[r]];
        cols[f.name] = numericVector(v, num.valid, dtypeOfArrow(vec.type as A.DataType));
      }
      out[j] = new A.Table(cols);
    });
  });
  return out;
}
