/**
 * Column types of text tables, from the values read so far. CSV cells (text): integers → int64,
 * other numbers → float64, true/false (any case) → bool, ISO-8601 dates/times → timestamp, else
 * string; empty cells are null and do not vote. JSON values: `inferDtype` (numbers, booleans, ISO
 * strings, lists; objects and mixed columns → string). A later value fits a column when it would
 * not have changed the column's type.
 */
import { inferDtype, listElement, looksLikeTimestamp, type TableDtype } from './dtypes.js';

function csvCellKind(c: string): TableDtype {
  const x = Number(c);
  if (c.trim() !== '' && Number.isFinite(x)) return Number.isInteger(x) && !/[.eE]/.test(c) ? 'int64' : 'float64';
  if (/^(true|false)$/i.test(c)) return 'bool';
  if (looksLikeTimestamp(c)) return 'timestamp';
  return 'string';
}

/** The CSV type of a column's cells ('' is null; a column with no values is string). */
export function inferCsvDtype(cells: Iterable<string>): TableDtype {
  const vote = new CsvDtypeVote();
  for (const c of cells) if (!vote.add(c)) break;
  return vote.dtype;
}

/** `inferCsvDtype` one cell at a time; `add` returns false once the column is decided (string). */
export class CsvDtypeVote {
  private num = true;
  private int = true;
  private bool = true;
  private ts = true;
  private any = false;

  add(c: string): boolean {
    if (c === '') return true;
    if (this.any && !this.num && !this.bool && !this.ts) return false;
    this.any = true;
    if (this.num) {
      const x = Number(c);
      if (c.trim() === '' || !Number.isFinite(x)) this.num = false;
      else if (!Number.isInteger(x) || /[.eE]/.test(c)) this.int = false;
    }
    if (this.bool && !/^(true|false)$/i.test(c)) this.bool = false;
    if (this.ts && !looksLikeTimestamp(c)) this.ts = false;
    return this.num || this.bool || this.ts;
  }

  get dtype(): TableDtype {
    if (!this.any) return 'string';
    if (this.num) return this.int ? 'int64' : 'float64';
    if (this.bool) return 'bool';
    if (this.ts) return 'timestamp';
    return 'string';
  }
}

/** Whether a CSV cell read after the inference window fits the column's inferred type. */
export function csvCellFits(c: string, dtype: TableDtype): boolean {
  if (c === '' || dtype === 'string') return true;
  const kind = csvCellKind(c);
  if (kind === dtype) return true;
  if (dtype === 'float64') return kind === 'int64';
  // '1' is a number first, but also a valid bool or timestamp cell only by its own rule
  return (dtype === 'bool' && /^(true|false)$/i.test(c)) || (dtype === 'timestamp' && looksLikeTimestamp(c));
}

/** Whether a JSON value read after the inference window fits the column's inferred type. */
export function jsonValueFits(v: unknown, dtype: TableDtype): boolean {
  if (v === null || v === undefined || dtype === 'string') return true;
  const el = listElement(dtype);
  if (el !== undefined) return Array.isArray(v) && v.every((x) => jsonValueFits(x, el));
  const kind = inferDtype([v]);
  return kind === dtype || (dtype === 'float64' && kind === 'int64');
}
