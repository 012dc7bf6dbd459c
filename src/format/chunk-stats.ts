import type { Sample } from './chunk.js';
import { DTYPES, type DType, typedView } from './dtype.js';

/**
 * Per-chunk statistics of a scalar column, stored with the chunk's reference in a fragment file as
 * `"stats": [nulls, min, max]` or `[nulls, min, max, flags]` (format v2, docs/FORMAT.md "Chunk
 * statistics"). `min`/`max` bound the chunk's non-null, non-NaN values (numbers; strings as
 * bounded prefixes); both are null when it has none. A chunk without stats can never be skipped.
 */
export type ChunkStatsJson =
  | readonly [number, number | string | null, number | string | null]
  | readonly [number, number | string | null, number | string | null, number];

/** Flag bit: the chunk holds at least one NaN (NaN sorts above every number, as in DuckDB). */
export const STATS_HAS_NAN = 1;
/** Flag bit: `max` is a truncated prefix of the true maximum (every value is ≤ max + any suffix). */
export const STATS_MAX_PREFIX = 2;
/** Flag bit: a null bound is unbounded on that side (the chunk holds an infinity, which JSON cannot hold). */
export const STATS_UNBOUNDED = 4;
/** Strings longer than this many UTF-16 code units are bounded by a prefix. */
export const STATS_STRING_PREFIX = 64;

export interface ChunkStats {
  readonly nulls: number;
  readonly min: number | string | null;
  readonly max: number | string | null;
  readonly hasNaN: boolean;
  /** True when `max` is a prefix of the true maximum rather than the maximum itself. */
  readonly maxIsPrefix: boolean;
}

/** Code-point (= UTF-8 byte) order, the order DuckDB compares VARCHARs in; JS `<` is UTF-16 order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+10000 and up) sort above U+E000–U+FFFF in code-point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x < 0xe000 ? x + 0x10000 : x;
      y = y < 0xe000 ? y + 0x10000 : y;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** A prefix of at most `STATS_STRING_PREFIX` code units that does not split a surrogate pair. */
function prefix(s: string): string {
  let end = STATS_STRING_PREFIX;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c < 0xdc00) end--;
  return s.slice(0, end);
}

/** Fixed-width element types (every dtype but string, json and bytes). */
const scalarDTypes = new Set<DType>(DTYPES.filter((d) => d !== 'string' && d !== 'json' && d !== 'bytes'));

/** Whether chunks of `dtype` get statistics (numbers, bools, strings). */
export function hasStats(dtype: DType): boolean {
  return dtype === 'string' || scalarDTypes.has(dtype);
}

const decoder = new TextDecoder();

/**
 * Statistics of the samples of one chunk, or undefined when the chunk holds a non-scalar sample
 * (shape with other than one element), a 64-bit integer outside ±2^53, or `dtype` has none.
 */
export function computeChunkStats(dtype: DType, samples: readonly (Sample | null)[]): ChunkStatsJson | undefined {
  if (!hasStats(dtype)) return undefined;
  let nulls = 0;
  let flags = 0;
  if (dtype === 'string') {
    let min: string | null = null;
    let max: string | null = null;
    for (const s of samples) {
      if (s === null) {
        nulls++;
        continue;
      }
      const v = decoder.decode(s.bytes);
      if (min === null || compareStrings(v, min) < 0) min = v;
      if (max === null || compareStrings(v, max) > 0) max = v;
    }
    if (min !== null && min.length > STATS_STRING_PREFIX) min = prefix(min);
    if (max !== null && max.length > STATS_STRING_PREFIX) {
      max = prefix(max);
      flags |= STATS_MAX_PREFIX;
    }
    return flags ? [nulls, min, max, flags] : [nulls, min, max];
  }
  let min = Infinity;
  let max = -Infinity;
  let any = false;
  for (const s of samples) {
    if (s === null) {
      nulls++;
      continue;
    }
    const data = typedView(dtype, s.bytes);
    if (data.length !== 1) return undefined;
    const v = Number(data[0]);
    if (typeof data[0] === 'bigint' && !Number.isSafeInteger(v)) return undefined;
    if (Number.isNaN(v)) {
      flags |= STATS_HAS_NAN;
      continue;
    }
    any = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const lo = any && Number.isFinite(min) ? min : null;
  const hi = any && Number.isFinite(max) ? max : null;
  if (any && (lo === null || hi === null)) flags |= STATS_UNBOUNDED;
  return flags ? [nulls, lo, hi, flags] : [nulls, lo, hi];
}

/** The stats of a chunk reference, or undefined when it has none (older fragments). */
export function readChunkStats(stats: ChunkStatsJson | undefined): ChunkStats | undefined {
  if (stats === undefined) return undefined;
  const flags = stats[3] ?? 0;
  const unbounded = (flags & STATS_UNBOUNDED) !== 0;
  return {
    nulls: stats[0],
    min: unbounded ? (stats[1] ?? -Infinity) : stats[1],
    max: unbounded ? (stats[2] ?? Infinity) : stats[2],
    hasNaN: (flags & STATS_HAS_NAN) !== 0,
    maxIsPrefix: (flags & STATS_MAX_PREFIX) !== 0,
  };
}

/** Why `stats` is not valid for a chunk of `samples` samples, or undefined when it is. */
export function statsProblem(stats: unknown, samples: number): string | undefined {
  if (!Array.isArray(stats) || (stats.length !== 3 && stats.length !== 4)) return 'stats are not [nulls, min, max]';
  const [nulls, min, max, flags = 0] = stats as unknown[];
  if (!Number.isSafeInteger(nulls) || (nulls as number) < 0 || (nulls as number) > samples)
    return `null count ${String(nulls)} is not in [0, ${samples}]`;
  if (!Number.isSafeInteger(flags) || (flags as number) < 0 || (flags as number) > 7)
    return `stats flags ${String(flags)} are not known`;
  const kind = (v: unknown): string => (v === null ? 'null' : typeof v);
  if (!['null', 'number', 'string'].includes(kind(min)) || !['null', 'number', 'string'].includes(kind(max)))
    return 'stats bounds are not numbers or strings';
  if (min !== null && max !== null) {
    if (kind(min) !== kind(max)) return 'stats bounds have different types';
    const ordered =
      typeof min === 'number' ? min <= (max as number) : compareStrings(min as string, max as string) <= 0;
    if (!ordered) return `stats min ${JSON.stringify(min)} is above max ${JSON.stringify(max)}`;
  }
  if ((min === null) !== (max === null) && ((flags as number) & STATS_UNBOUNDED) === 0)
    return 'stats have one bound only';
  const values = samples - (nulls as number);
  if (min === null && max === null && values > 0 && ((flags as number) & (STATS_HAS_NAN | STATS_UNBOUNDED)) === 0)
    return `stats have no bounds for ${values} values`;
  return undefined;
}
