/**
 * Frequent items (Misra–Gries) for categorical columns: at most `capacity` counters. While a column
 * has no more distinct values than that, the counts are exact and merging shards gives exactly one
 * pass's counts; beyond it each count is an underestimate by at most n / (capacity + 1) (the bound
 * holds after merges too: Agarwal et al., "Mergeable summaries", 2012).
 */
export const FREQUENT_CAPACITY = 256;

export interface FrequentState {
  readonly capacity: number;
  readonly counts: Map<string, number>;
  /** Non-null values seen. */
  count: number;
  nulls: number;
  /** True once a counter was dropped (counts are then lower bounds). */
  approximate: boolean;
}

export function newFrequent(capacity = FREQUENT_CAPACITY): FrequentState {
  return { capacity, counts: new Map(), count: 0, nulls: 0, approximate: false };
}

export function addFrequent(f: FrequentState, value: string | null | undefined): void {
  if (value === null || value === undefined) {
    f.nulls++;
    return;
  }
  f.count++;
  const c = f.counts.get(value);
  if (c !== undefined) f.counts.set(value, c + 1);
  else if (f.counts.size < f.capacity) f.counts.set(value, 1);
  else {
    f.approximate = true;
    for (const [k, v] of f.counts) {
      if (v <= 1) f.counts.delete(k);
      else f.counts.set(k, v - 1);
    }
  }
}

/** Folds `b` into `a`: counters add, then all are lowered by the (capacity+1)-th largest count. */
export function mergeFrequent(a: FrequentState, b: Readonly<FrequentState>): void {
  a.count += b.count;
  a.nulls += b.nulls;
  a.approximate ||= b.approximate;
  for (const [k, v] of b.counts) a.counts.set(k, (a.counts.get(k) ?? 0) + v);
  if (a.counts.size <= a.capacity) return;
  a.approximate = true;
  const cut = [...a.counts.values()].sort((x, y) => y - x)[a.capacity];
  for (const [k, v] of a.counts) {
    if (v <= cut) a.counts.delete(k);
    else a.counts.set(k, v - cut);
  }
}

/** The `k` most frequent values, most frequent first (ties by value). */
export function topK(f: Readonly<FrequentState>, k: number): { value: string; count: number }[] {
  return [...f.counts.entries()]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .slice(0, k)
    .map(([value, count]) => ({ value, count }));
}
