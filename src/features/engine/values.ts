/** Engine numbers → JS values for FeatureRowBatch (NaN → null, codes → dictionary values, bools). */
import { listElement } from '../definitions/dtypes.js';
import type { Aggregation } from '../definitions/types.js';

function scalar(v: number, dtype: string, dict: unknown[] | null): unknown {
  if (v !== v) return null;
  if (dict) return dict[v] ?? null;
  if (dtype === 'bool') return v !== 0;
  return v;
}

/** The JS value of an aggregation result. */
export function aggJsValue(agg: Aggregation, v: number | number[], dict: unknown[] | null): unknown {
  if (Array.isArray(v)) {
    const el = listElement(agg.dtype) ?? 'float64';
    return v.map((x) => scalar(x, el, dict));
  }
  if (agg.function === 'count' || agg.function === 'count_distinct') return v;
  return scalar(v, agg.dtype, dict);
}
