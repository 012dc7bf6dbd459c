/** JS values → Arrow vectors of a dtype (the one conversion the table readers and features share). */
import * as A from 'apache-arrow';
import { arrowOfDtype, categoryOf, listElement, type Dtype } from './dtypes.js';

const INTEGER = /^\s*[-+]?\d+\s*$/;

/** Converts a JS value to what Arrow's builder expects for `dtype` (integer text becomes an exact BigInt). */
export function coerce(v: unknown, dtype: Dtype): unknown {
  if (v === null || v === undefined) return null;
  if (dtype === 'json') return jsonText(v);
  const cat = categoryOf(dtype);
  switch (cat) {
    case 'int':
      if (typeof v === 'bigint') return dtype === 'int32' ? Number(v) : v;
      if (typeof v === 'boolean') return dtype === 'int32' ? Number(v) : BigInt(Number(v));
      if (typeof v === 'string' && dtype !== 'int32' && INTEGER.test(v)) return BigInt(v.trim());
      {
        const n = Number(v);
        if (!Number.isFinite(n)) return null;
        return dtype === 'int32' ? Math.trunc(n) : BigInt(Math.trunc(n));
      }
    case 'float':
      return typeof v === 'boolean' ? Number(v) : v === '' ? null : Number(v);
    case 'bool':
      return typeof v === 'string' ? /^(true|1|t|yes)$/i.test(v) : Boolean(v);
    case 'timestamp': {
      const ms = toMs(v);
      return Number.isFinite(ms) ? ms : null;
    }
    case 'string':
      if (typeof v === 'string') return v;
      return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : jsonText(v);
    case 'list': {
      const el = listElement(dtype) ?? 'float64';
      const arr = Array.isArray(v)
        ? v
        : ArrayBuffer.isView(v)
          ? Array.from(v as unknown as ArrayLike<unknown>)
          : typeof (v as { toArray?: unknown }).toArray === 'function'
            ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray())
            : [v];
      return arr.map((x) => coerce(x, el));
    }
    default:
      return v;
  }
}

/** JSON text of a value; a BigInt is written as a number when it is one exactly, else as its digits in a string. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x,
  );
}

/** Milliseconds since the epoch for Date / number (ms) / bigint / ISO string; NaN otherwise. */
export function toMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    return Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) || !/T|\d \d/.test(v) ? v : `${v}Z`);
  }
  return Number.NaN;
}

/** One vector from JS values with a known dtype (`timestamp[us]` takes BigInt epoch microseconds). */
export function vectorOf(values: readonly unknown[], dtype: Dtype): A.Vector {
  if (dtype === 'timestamp[us]') return microsVector(values);
  const type = arrowOfDtype(dtype);
  return A.vectorFromArray(values.map((v) => coerce(v, dtype)) as never[], type as never);
}

/** Arrow's builders take timestamps as millisecond numbers; exact microseconds are written directly. */
function microsVector(values: readonly unknown[]): A.Vector {
  const n = values.length;
  const data = new BigInt64Array(n);
  const valid = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      nullCount++;
      continue;
    }
    data[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(toMs(v) * 1000));
    valid[i >> 3] |= 1 << (i & 7);
  }
  return A.makeVector(
    A.makeData({
      type: new A.TimestampMicrosecond(),
      length: n,
      data: data as never,
      nullBitmap: nullCount ? valid : undefined,
      nullCount,
    }),
  );
}
