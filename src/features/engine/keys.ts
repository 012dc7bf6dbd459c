/**
 * Entity keys → dense int32 codes. Integer keys with a compact range use a direct lookup table
 * (no hashing in the hot loop); other keys use one Map lookup per row. Keys are exact for every
 * int64: a column holding integers beyond 2^53 never goes through float64 (its Map keys are the
 * decimal text, its values bigints).
 */
import type * as A from 'apache-arrow';
import { canonical, int64Exact, keyValue, readNumeric } from './columns.js';
import { allocI32 } from './pool.js';

const DIRECT_MAX_RANGE = 1 << 24;

export class KeyIndex {
  /** Per join key column: code → value. */
  readonly values: unknown[][];
  #direct: { min: number; table: Int32Array } | null;
  #map: Map<unknown, number> | null;

  private constructor(
    readonly columns: readonly string[],
    values: unknown[][],
    direct: { min: number; table: Int32Array } | null,
    map: Map<unknown, number> | null,
  ) {
    this.values = values;
    this.#direct = direct;
    this.#map = map;
  }

  get size(): number {
    return this.values[0]?.length ?? 0;
  }

  /** Key record of an entity code. */
  keyOf(code: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let c = 0; c < this.columns.length; c++) out[this.columns[c]] = this.values[c][code];
    return out;
  }

  /** Codes the rows of `vectors` (one per join key), assigning new codes for unseen keys; -1 for a missing key. */
  static build(columns: readonly string[], vectors: readonly A.Vector[]): { index: KeyIndex; codes: Int32Array } {
    const n = vectors[0]?.length ?? 0;
    const codes = allocI32(n);
    if (vectors.length === 1 && int64Exact(vectors[0])) {
      const num = readNumeric(vectors[0]);
      if (num && !num.valid) {
        const v = num.values;
        let min = Infinity;
        let max = -Infinity;
        let ints = true;
        for (let i = 0; i < n; i++) {
          const x = v[i];
          if (x < min) min = x;
          if (x > max) max = x;
          if (ints && !Number.isInteger(x)) ints = false;
        }
        if (ints && (n === 0 || max - min < DIRECT_MAX_RANGE)) {
          if (n === 0) min = max = 0;
          const table = new Int32Array(max - min + 1).fill(-1);
          const vals: number[] = [];
          for (let i = 0; i < n; i++) {
            const slot = v[i] - min;
            let c = table[slot];
            if (c < 0) {
              c = table[slot] = vals.length;
              vals.push(v[i]);
            }
            codes[i] = c;
          }
          return { index: new KeyIndex(columns, [vals], { min, table }, null), codes };
        }
      }
    }
    const map = new Map<unknown, number>();
    const values: unknown[][] = columns.map(() => []);
    for (let i = 0; i < n; i++) {
      if (vectors.some((v) => v.get(i) === null || v.get(i) === undefined)) {
        codes[i] = -1;
        continue;
      }
      const key = compositeKey(vectors, i);
      let c = map.get(key);
      if (c === undefined) {
        c = map.size;
        map.set(key, c);
        for (let k = 0; k < vectors.length; k++) values[k].push(keyValue(vectors[k].get(i)));
      }
      codes[i] = c;
    }
    return { index: new KeyIndex(columns, values, null, map), codes };
  }

  /** Codes for lookup rows; -1 where the key is unknown or missing. */
  lookup(vectors: readonly A.Vector[]): Int32Array {
    const n = vectors[0]?.length ?? 0;
    const out = new Int32Array(n).fill(-1);
    const direct = this.#direct;
    if (direct) {
      const num = int64Exact(vectors[0]) ? readNumeric(vectors[0]) : undefined;
      if (num) {
        const { min, table } = direct;
        const len = table.length;
        const v = num.values;
        const valid = num.valid;
        for (let i = 0; i < n; i++) {
          const slot = v[i] - min;
          if (slot >= 0 && slot < len && (slot | 0) === slot && (!valid || valid[i])) out[i] = table[slot];
        }
        return out;
      }
      for (let i = 0; i < n; i++) out[i] = this.lookupOne([vectors[0].get(i)]);
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.#map!.get(compositeKey(vectors, i)) ?? -1;
    return out;
  }

  /** Code of one key tuple, or -1. */
  lookupOne(key: readonly unknown[]): number {
    if (this.#direct) {
      const x = canonical(key[0]);
      if (typeof x !== 'number') return -1;
      const slot = x - this.#direct.min;
      return slot >= 0 && slot < this.#direct.table.length && Number.isInteger(slot) ? this.#direct.table[slot] : -1;
    }
    return this.#map!.get(tupleKey(key)) ?? -1;
  }
}

function compositeKey(vectors: readonly A.Vector[], i: number): unknown {
  if (vectors.length === 1) return canonical(vectors[0].get(i) as unknown);
  return tupleKey(vectors.map((v) => v.get(i) as unknown));
}

/** Map key for a key tuple: the value itself for one key, a JSON array for several. */
export function tupleKey(key: readonly unknown[]): unknown {
  if (key.length === 1) return canonical(key[0]);
  return JSON.stringify(key.map(canonical));
}
