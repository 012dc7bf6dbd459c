/**
 * What the online layer needs to know about feature dtypes: which are vectors (embeddings), their
 * element type and width. Accepted spellings: `float32[512]`, `float32[]`, `list<float32>`,
 * `array<float32, 512>`, `vector<float32, 512>`, `embedding[512]`, `embedding`.
 */

export interface VectorDtype {
  /** `float32` vectors are stored as raw float32; `float64` as raw float64; `other` as JSON lists. */
  readonly element: 'float32' | 'float64' | 'int32' | 'other';
  /** Fixed width when the dtype states one. */
  readonly dim?: number;
}

const cache = new Map<string, VectorDtype | null>();

function elementOf(name: string | undefined): VectorDtype['element'] {
  const n = (name ?? 'float32').trim().toLowerCase();
  if (['float32', 'float', 'f32', 'float16', 'half', 'embedding', 'vector', ''].includes(n)) return 'float32';
  if (['float64', 'double', 'f64'].includes(n)) return 'float64';
  if (['int32', 'i32'].includes(n)) return 'int32';
  return 'other';
}

/** Parses a dtype; `null` for scalars. */
export function vectorDtype(dtype: string | undefined): VectorDtype | null {
  if (!dtype) return null;
  const hit = cache.get(dtype);
  if (hit !== undefined) return hit;
  let out: VectorDtype | null = null;
  const d = dtype.trim();
  let m: RegExpMatchArray | null;
  if ((m = d.match(/^([\w]*)\s*\[\s*(\d*)\s*\]$/))) {
    out = { element: elementOf(m[1]), ...(m[2] ? { dim: Number(m[2]) } : {}) };
  } else if ((m = d.match(/^(?:list|array|vector)\s*<\s*(\w+)\s*(?:,\s*(\d+)\s*)?>$/i))) {
    out = { element: elementOf(m[1]), ...(m[2] ? { dim: Number(m[2]) } : {}) };
  } else if ((m = d.match(/^(?:embedding|vector)\s*(?:\(\s*(\d+)\s*\))?$/i))) {
    out = { element: 'float32', ...(m[1] ? { dim: Number(m[1]) } : {}) };
  }
  cache.set(dtype, out);
  return out;
}

/**
 * Brings a value into the form the store keeps for its dtype: float32 vectors become Float32Array,
 * float64 vectors Float64Array; `undefined` becomes null. Other values pass through.
 */
export function coerceForDtype(value: unknown, dtype: string | undefined): unknown {
  if (value === undefined) return null;
  if (value === null) return null;
  const v = vectorDtype(dtype);
  if (!v) return value;
  if (v.element === 'float32' && !(value instanceof Float32Array) && isNumberList(value))
    return Float32Array.from(value);
  if (v.element === 'float64' && !(value instanceof Float64Array) && isNumberList(value))
    return Float64Array.from(value);
  if (v.element === 'int32' && !(value instanceof Int32Array) && isNumberList(value)) return Int32Array.from(value);
  return value;
}

function isNumberList(value: unknown): value is ArrayLike<number> {
  if (Array.isArray(value)) return value.every((x) => typeof x === 'number');
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  );
}
