import { StrataError } from '../../errors.js';
import type { CellContext } from './htype.js';

/** INVALID_ARGUMENT naming the row, the column, what was expected and what came. */
export function badValue(
  ctx: Pick<CellContext, 'column' | 'row'>,
  expected: string,
  got: unknown,
  hint?: string,
): StrataError {
  return new StrataError(
    'INVALID_ARGUMENT',
    `row ${ctx.row}, column ${ctx.column}: expected ${expected}, got ${describe(got)}`,
    {
      column: ctx.column,
      row: ctx.row,
      expected,
      hint,
    },
  );
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.byteLength} bytes)`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'string') return v.length > 40 ? `string "${v.slice(0, 37)}..."` : `string "${v}"`;
  if (typeof v === 'object') return 'object';
  if (
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'boolean' ||
    typeof v === 'symbol' ||
    typeof v === 'function' ||
    typeof v === 'undefined'
  )
    return `${typeof v} ${String(v)}`;
  return typeof v;
}
