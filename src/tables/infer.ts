/**
 * Column types of text tables, from the values read so far. CSV cells (text): integers → int64,
 * other numbers → float64, true/false (any case) → bool, ISO-8601 dates/times → timestamp, else
 * string; empty cells are null and do not vote. JSON values: `inferDtype` (numbers, booleans, ISO
 * strings, lists; objects and mixed columns → string). A later value fits a column when it would
 * not have changed the column's type.
 */
import { inferDtype, listElement, looksLikeTimestamp, type Dtype } from './dtypes.js';

function csvCellKind(c: string): Dtype {
  const x = Number(c);
  if (c.trim() !== '' && Number.isFinite(x)) return Number.isInteger(x) && !/[.eE]/.test(c) ? 'int64' : 'float64';
  if (/^(true|false)$/i.test(c)) return 'bool';
  if (looksLikeTimestamp(c)) return 'timestamp';
  return 'string';
}

/** The CSV type of a column's cells ('' is null; a column with no values is string). */
export function inferCsvDtype(cells: Iterable<string>): Dtype {
  let num = true;
  let int = true;
  let bool = true;
  let ts = true;
  let any = false;
  for (const c of cells) {
    if (c === '') continue;
    any = true;
    if (num) {
      const x = Number(c);
      if (c.trim() === '' || !Number.isFinite(x)) num = false;
      else if (!Number.isInteger(x) || /[.eE]/.test(c)) int = false;
    }
    if (bool && !/^(true|false)$/i.test(c)) bool = false;
    if (ts && !looksLikeTimestamp(c)) ts = false;
    if (!num && !bool && !ts) return 'string';
  }
  if (!any) return 'string';
  if (num) return int ? 'int64' : 'float64';
  if (bool) return 'bool';
  if (ts) return 'timestamp';
  return 'string';
}

/** Whether a CSV cell read after the inference window fits the column's inferred type. */
export function csvCellFits(c: string, dtype: Dtype): boolean {
  if (c === '' || dtype === 'string') return true;
  const kind = csvCellKind(c);
  if (kind === dtype) return true;
  if (dtype === 'float64') return kind === 'int64';
  // '1' is a number first, but also a valid bool or timestamp cell only by its own rule
  return (dtype === 'bool' && /^(true|false)$/i.test(c)) || (dtype === 'timestamp' && looksLikeTimestamp(c));
}

/** Whether a JSON value read after the inference window fits the column's inferred type. */
export function jsonValueFits(v: unknown, dtype: Dtype): boolean {
  if (v === null || v === undefined || dtype === 'string') return true;
  const el = listElement(dtype);
  if (el !== undefined) return Array.isArray(v) && v.every((x) => jsonValueFits(x, el));
  const kind = inferDtype([v]);
  return kind === dtype || (dtype === 'float64' && kind === 'int64');
}
