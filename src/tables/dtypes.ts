/**
 * Dtype strings (`TableDtype`; distinct from the stored element types, `DType`) ↔ Arrow types, and inference of a dtype from JS values. The one vocabulary of the
 * table readers and the features engine: `bool`, `int32`, `int64`, `float32`, `float64`, `string`,
 * `timestamp` (epoch milliseconds), `timestamp[us]` (exact epoch microseconds), `json` (JSON text in
 * an `arrow.json` extension column), `list<x>` and vector spellings such as `float32[512]`.
 */
import * as A from 'apache-arrow';

/** A table column's dtype string, as tables and feature definitions spell it (see the module comment). */
export type TableDtype = string;

/** Arrow's canonical JSON extension type: a Utf8 column whose field metadata names it. */
export const JSON_EXTENSION: ReadonlyMap<string, string> = new Map([['ARROW:extension:name', 'arrow.json']]);

export type DtypeCategory = 'int' | 'float' | 'string' | 'bool' | 'timestamp' | 'list' | 'other';

const ISO_TS = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function looksLikeTimestamp(s: string): boolean {
  return ISO_TS.test(s);
}

export function categoryOf(dtype: TableDtype): DtypeCategory {
  const d = dtype.toLowerCase();
  if (/^u?int(8|16|32|64)?$/.test(d)) return 'int';
  if (/^float(16|32|64)?$|^double$/.test(d)) return 'float';
  if (d === 'string' || d === 'utf8' || d === 'json') return 'string';
  if (d === 'bool' || d === 'boolean') return 'bool';
  if (d.startsWith('timestamp') || d === 'date') return 'timestamp';
  if (d.startsWith('list') || d.endsWith(']') || d.startsWith('vector') || d.startsWith('embedding')) return 'list';
  return 'other';
}

export function isNumericDtype(dtype: TableDtype): boolean {
  const c = categoryOf(dtype);
  return c === 'int' || c === 'float' || c === 'bool' || c === 'timestamp';
}

/** Element dtype of `list<x>` / `x[n]`, else undefined. */
export function listElement(dtype: TableDtype): TableDtype | undefined {
  const m = /^list<\s*([\w]+)\s*>$/i.exec(dtype) ?? /^([\w]+)\s*\[\s*\d*\s*\]$/.exec(dtype);
  return m?.[1];
}

export function dtypeOfArrow(type: A.DataType): TableDtype {
  switch (type.typeId) {
    case A.Type.Bool:
      return 'bool';
    case A.Type.Int: {
      const t = type as A.Int;
      return t.bitWidth < 32 || (t.bitWidth === 32 && t.isSigned) ? 'int32' : 'int64';
    }
    case A.Type.Float:
      return (type as A.Float).precision === A.Precision.DOUBLE ? 'float64' : 'float32';
    case A.Type.Utf8:
    case A.Type.LargeUtf8:
      return 'string';
    case A.Type.Timestamp:
    case A.Type.Date:
      return 'timestamp';
    case A.Type.Dictionary:
      return dtypeOfArrow((type as A.Dictionary).dictionary as A.DataType);
    case A.Type.List:
      return `list<${dtypeOfArrow((type as A.List).children[0].type as A.DataType)}>`;
    case A.Type.FixedSizeList: {
      const t = type as A.FixedSizeList;
      return `${dtypeOfArrow(t.children[0].type as A.DataType)}[${t.listSize}]`;
    }
    default:
      return (type as { toString(): string }).toString().toLowerCase();
  }
}

export function arrowOfDtype(dtype: TableDtype): A.DataType {
  const d = dtype.toLowerCase();
  switch (d) {
    case 'bool':
    case 'boolean':
      return new A.Bool();
    case 'int8':
    case 'int16':
    case 'int32':
      return new A.Int32();
    case 'int':
    case 'int64':
    case 'uint32':
    case 'uint64':
      return new A.Int64();
    case 'float16':
    case 'float32':
      return new A.Float32();
    case 'float':
    case 'float64':
    case 'double':
      return new A.Float64();
    case 'string':
    case 'utf8':
      return new A.Utf8();
  }
  if (d === 'timestamp[us]') return new A.TimestampMicrosecond();
  if (d.startsWith('timestamp') || d === 'date') return new A.TimestampMillisecond();
  const el = listElement(d);
  if (el) {
    const size = /\[\s*(\d+)\s*\]$/.exec(d)?.[1];
    const child = new A.Field('item', arrowOfDtype(el), true);
    return size ? new A.FixedSizeList(Number(size), child) : new A.List(child);
  }
  return new A.Utf8();
}

/** Infers a dtype from sample values (nulls ignored; an all-null column is `string`). */
export function inferDtype(values: Iterable<unknown>): TableDtype {
  const vote = new DtypeVote();
  for (const v of values) if (!vote.add(v)) break;
  return vote.dtype;
}

/**
 * `inferDtype` one value at a time, so a column's type is found over a stream without holding its
 * values: `add` returns false once the type is decided (later values cannot change it).
 */
export class DtypeVote {
  private kind: string | undefined;
  private allInt = true;
  private elem: DtypeVote | undefined;
  private decided: TableDtype | undefined;

  add(v: unknown): boolean {
    if (this.decided !== undefined) return false;
    if (v === null || v === undefined) return true;
    let k: string;
    if (typeof v === 'number') {
      k = 'num';
      if (!Number.isInteger(v)) this.allInt = false;
    } else if (typeof v === 'bigint') k = 'num';
    else if (typeof v === 'boolean') k = 'bool';
    else if (v instanceof Date) k = 'ts';
    else if (typeof v === 'string') k = looksLikeTimestamp(v) ? 'tsstr' : 'str';
    else if (v instanceof Float32Array) {
      this.decided = 'list<float32>';
      return false;
    } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      k = 'list';
      this.elem ??= new DtypeVote();
      for (const x of Array.from(v as ArrayLike<unknown>)) this.elem.add(x);
    } else k = 'str';
    if (this.kind === undefined) this.kind = k;
    else if (this.kind !== k) {
      if ((this.kind === 'ts' || this.kind === 'tsstr') && (k === 'ts' || k === 'tsstr')) this.kind = 'ts';
      else {
        this.decided = 'string';
        return false;
      }
    }
    return true;
  }

  get dtype(): TableDtype {
    if (this.decided !== undefined) return this.decided;
    switch (this.kind) {
      case 'num':
        return this.allInt ? 'int64' : 'float64';
      case 'bool':
        return 'bool';
      case 'ts':
      case 'tsstr':
        return 'timestamp';
      case 'list':
        return `list<${(this.elem ?? new DtypeVote()).dtype}>`;
      default:
        return 'string';
    }
  }
}
