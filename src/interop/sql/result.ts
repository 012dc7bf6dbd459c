import {
  Binary,
  type Builder,
  Bool,
  type DataType,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  Struct,
  Table,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  type Vector,
  makeBuilder,
} from 'apache-arrow';
import { DuckDBTypeId, type DuckDBResultReader, type DuckDBType, type JS } from '@duckdb/node-api';
import { StrataError } from '../../errors.js';

/**
 * Arrow type of a DuckDB result type: integers keep their width and sign (HUGEINT → Int64, refused
 * when a value does not fit), FLOAT → Float32, DOUBLE and DECIMAL → Float64, BOOLEAN → Bool,
 * VARCHAR → Utf8, BLOB → Binary, LIST/ARRAY → List, STRUCT → Struct; any other type (dates,
 * times, intervals, UUIDs, maps, ...) → Utf8 of DuckDB's text form.
 */
export function arrowTypeOf(t: DuckDBType): DataType {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool();
    case DuckDBTypeId.TINYINT:
      return new Int8();
    case DuckDBTypeId.SMALLINT:
      return new Int16();
    case DuckDBTypeId.INTEGER:
      return new Int32();
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
      return new Int64();
    case DuckDBTypeId.UTINYINT:
      return new Uint8();
    case DuckDBTypeId.USMALLINT:
      return new Uint16();
    case DuckDBTypeId.UINTEGER:
      return new Uint32();
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return new Uint64();
    case DuckDBTypeId.FLOAT:
      return new Float32();
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return new Float64();
    case DuckDBTypeId.VARCHAR:
      return new Utf8();
    case DuckDBTypeId.BLOB:
      return new Binary();
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return new List(new Field('item', arrowTypeOf(t.valueType), true));
    case DuckDBTypeId.STRUCT:
      return new Struct(t.entryNames.map((n, i) => new Field(n, arrowTypeOf(t.entryTypes[i]), true)));
    default:
      return new Utf8();
  }
}

const I64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

/** A JS value of the result as the builder of `type` takes it. */
function cell(v: JS, type: DataType, column: string): unknown {
  if (v === null) return null;
  if (type instanceof Int64 && typeof v === 'bigint' && (v < I64[0] || v > I64[1])) {
    throw new StrataError('UNSUPPORTED', `result column ${column} has a value beyond 64 bits`, {
      column,
      hint: 'CAST it to DOUBLE or VARCHAR in the query',
    });
  }
  if (type instanceof Utf8) return v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : stringify(v);
  if (type instanceof List && Array.isArray(v)) {
    const item = (type.children[0] as Field<DataType>).type;
    return v.map((x) => cell(x, item, column));
  }
  if (type instanceof Struct && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const f of type.children as Field<DataType>[])
      out[f.name] = cell((v as Record<string, JS>)[f.name] ?? null, f.type, column);
    return out;
  }
  return v;
}

function stringify(v: JS): string {
  return typeof v === 'object'
    ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
    : String(v);
}

/** The whole result as an Arrow Table (column names and order as DuckDB returns them). */
export function resultTable(reader: DuckDBResultReader): Table {
  return columnsTable(reader.columnNames(), reader.columnTypes(), reader.getColumnsJS());
}

/** Columns of JS values (DuckDB's JS conversion) of result columns `names` of `types` as an Arrow Table. */
export function columnsTable(names: readonly string[], types: readonly DuckDBType[], columns: readonly JS[][]): Table {
  const vectors: Record<string, Vector> = {};
  names.forEach((name, k) => {
    const type = arrowTypeOf(types[k]);
    // makeBuilder types a builder for the base DataType as Builder<any>: typed here, at the boundary.
    const b = makeBuilder({ type, nullValues: [null, undefined] }) as Builder<DataType>;
    for (const v of columns[k]) b.append(cell(v, type, name));
    vectors[unique(name, vectors)] = b.finish().toVector();
  });
  return new Table(vectors);
}

/** DuckDB allows duplicate result names (`SELECT a, a`); Arrow tables here get `a`, `a_1`, ... */
function unique(name: string, taken: Record<string, unknown>): string {
  if (!(name in taken)) return name;
  let i = 1;
  while (`${name}_${i}` in taken) i++;
  return `${name}_${i}`;
}
