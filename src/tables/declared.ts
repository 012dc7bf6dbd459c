/**
 * Whether a CSV cell or JSON value can be stored in a column whose dtype the user declared, exactly
 * as `coerce` (src/tables/values.ts) would convert it: a value that would become null, NaN, a
 * truncated number or `false` by default is refused, so a declared type never turns data into garbage.
 */
import { categoryOf, listElement, type TableDtype } from './dtypes.js';
import { toMs } from './values.js';

const INTEGER = /^\s*[-+]?\d+\s*$/;
const BOOL_TEXT = /^(true|false|t|f|yes|no|1|0)$/i;
const NAN_TEXT = /^\s*[-+]?nan\s*$/i;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function declaredValueFits(v: unknown, dtype: TableDtype, kind: 'csv' | 'json'): boolean {
  if (v === null || v === undefined || (kind === 'csv' && v === '')) return true;
  switch (categoryOf(dtype)) {
    case 'int':
      return integerFits(v, dtype);
    case 'float':
      if (typeof v === 'number' || typeof v === 'bigint') return true;
      if (typeof v === 'boolean') return kind === 'json';
      return typeof v === 'string' && v.trim() !== '' && (!Number.isNaN(Number(v)) || NAN_TEXT.test(v));
    case 'bool':
      if (typeof v === 'boolean') return true;
      if (typeof v === 'number') return v === 0 || v === 1;
      return typeof v === 'string' && BOOL_TEXT.test(v.trim());
    case 'timestamp':
      return (
        (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Date) &&
        Number.isFinite(toMs(typeof v === 'string' ? v.trim() : v))
      );
    case 'list': {
      if (kind === 'csv') return true;
      const el = listElement(dtype) ?? 'float64';
      const items = Array.isArray(v)
        ? v
        : ArrayBuffer.isView(v)
          ? Array.from(v as unknown as ArrayLike<unknown>)
          : null;
      return items !== null && items.every((x) => declaredValueFits(x, el, kind));
    }
    default:
      return true;
  }
}

function integerFits(v: unknown, dtype: TableDtype): boolean {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'boolean') return true;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) return false;
    n = BigInt(v);
  } else if (typeof v === 'string' && INTEGER.test(v)) n = BigInt(v.trim());
  else return false;
  if (dtype.toLowerCase() === 'int32' || /^u?int(8|16)$/i.test(dtype)) return n >= INT32_MIN && n <= INT32_MAX;
  return n >= -(2n ** 63n) && n < 2n ** 64n;
}
