/**
 * Pushed events checked and coerced by the push source's schema before anything is applied, so the
 * streaming state and the offline copy see the same values (`{ k: '7' }` and `{ k: 7 }` on an int64
 * key are one entity in both). A value that does not fit its column's dtype rejects the batch with
 * INVALID_ARGUMENT naming the event (`row`) and the column (`field`); nothing is silently nulled.
 */
import { StrataError } from '../../errors.js';
import { normalizeValue, toMs } from '../engine/build.js';
import { categoryOf, listElement } from '../definitions/dtypes.js';
import type { TableDtype, Source } from '../definitions/types.js';

const INT_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const BOOL_TEXT = /^(true|false|t|f|yes|no|1|0)$/i;

/** Why `v` does not fit `dtype`, or undefined when it does (null always fits). */
function mismatch(v: unknown, dtype: TableDtype): string | undefined {
  if (v === null || v === undefined) return undefined;
  switch (categoryOf(dtype)) {
    case 'int': {
      let big: bigint;
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) return `${v} is not an integer`;
        if (!Number.isSafeInteger(v))
          return `${v} is beyond 2^53 and has lost precision as a number; send it as a decimal string or a bigint`;
        big = BigInt(v);
      } else if (typeof v === 'bigint') big = v;
      else if (typeof v === 'string' && INT_TEXT.test(v.trim())) big = BigInt(v.trim());
      else return `${describe(v)} is not an integer`;
      const int32 = dtype.toLowerCase() === 'int32';
      if (int32 ? big < -(2n ** 31n) || big >= 2n ** 31n : big < INT64_MIN || big > INT64_MAX)
        return `${big} is out of range for ${dtype}`;
      return undefined;
    }
    case 'float':
      if (typeof v === 'number' || typeof v === 'bigint') return undefined;
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return undefined;
      return `${describe(v)} is not a number`;
    case 'bool':
      if (typeof v === 'boolean' || v === 0 || v === 1) return undefined;
      if (typeof v === 'string' && BOOL_TEXT.test(v.trim())) return undefined;
      return `${describe(v)} is not a boolean`;
    case 'timestamp':
      return Number.isFinite(toMs(v)) ? undefined : `${describe(v)} is not a time`;
    case 'string':
      return typeof v === 'object' ? `${describe(v)} is not a string` : undefined;
    case 'list': {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) return `${describe(v)} is not a list`;
      const el = listElement(dtype) ?? 'float64';
      for (const x of Array.from(v as ArrayLike<unknown>)) {
        const why = mismatch(x, el);
        if (why) return `element ${why}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function describe(v: unknown): string {
  const text = typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
  return text === undefined ? typeof v : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The event with every schema column coerced to its dtype (as it reads back from Arrow: int64 as a
 * number, or a bigint beyond 2^53; times as ms); other fields are kept as they are.
 */
export function coercePushEvent(source: Source, e: Record<string, unknown>, row: number): Record<string, unknown> {
  const schema = source.columns ?? {};
  const out: Record<string, unknown> = { ...e };
  for (const [col, dtype] of Object.entries(schema)) {
    if (!(col in e)) continue;
    const why = mismatch(e[col], dtype);
    if (why) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `push to ${source.name}: event ${row} field ${col}: ${why} (the schema says ${dtype})`,
        { row, field: col, key: source.name, hint: `send ${col} as a ${dtype} value, or null` },
      );
    }
    out[col] = normalizeValue(e[col], dtype);
  }
  return out;
}
