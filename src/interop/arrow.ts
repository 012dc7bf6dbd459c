import {
  Binary,
  type Builder,
  Bool,
  type DataType,
  Field,
  FixedSizeList,
  type Float,
  Float32,
  Float64,
  type Int,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  Type,
  type Vector,
  makeBuilder,
  makeData,
} from 'apache-arrow';
import { StrataError, throwIfAborted } from '../errors.js';
import type { DatasetReader } from '../dataset/read.js';
import type { ColumnSpecInput } from '../dataset/schema.js';
import type { DType } from '../format/dtype.js';
import { sniffImage, sniffVideo } from '../media/image-header.js';
import { type ExtractedColumn, SHAPE_SUFFIX, extractColumns, specFromMeta, tensorValue } from './columns.js';
import type { FromTableOptions, TableImport, ToArrowOptions } from './types.js';

/** Field metadata keys. `strata.meta` is the column metadata as JSON (class names, bbox format, ...). */
export const ARROW_META = {
  htype: 'strata.htype',
  dtype: 'strata.dtype',
  meta: 'strata.meta',
  shapeOf: 'strata.shapeOf',
} as const;

export function arrowType(dtype: DType): DataType {
  switch (dtype) {
    case 'uint8':
      return new Uint8();
    case 'int8':
      return new Int8();
    case 'uint16':
      return new Uint16();
    case 'int16':
      return new Int16();
    case 'uint32':
      return new Uint32();
    case 'int32':
      return new Int32();
    case 'uint64':
      return new Uint64();
    case 'int64':
      return new Int64();
    case 'float16':
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    default:
      return new Utf8();
  }
}

const f32 = () => new Float32();

/**
 * Arrow type of an htype: image/video → Binary (the file bytes); link, text → Utf8; json → Utf8
 * (JSON text); class_label → Int32 ids (names in the field metadata); bbox → List<FixedSizeList<4,
 * Float32>>; embedding → FixedSizeList<dim, Float32>; generic scalars → the numeric type of the
 * dtype; generic tensors → List<T> of the flattened values plus a `<name>__shape` List<Int32> column.
 */
function typeOf(col: ExtractedColumn): DataType {
  switch (col.htype) {
    case 'image':
    case 'video':
      return new Binary();
    case 'class_label':
      return new Int32();
    case 'bbox':
      return new List(new Field('item', new FixedSizeList(4, new Field('item', f32(), false)), false));
    case 'embedding':
      return new FixedSizeList(col.meta.dim as number, new Field('item', f32(), false));
    case 'generic':
      return col.shapes ? new List(new Field('item', arrowType(col.dtype), false)) : arrowType(col.dtype);
    default:
      return new Utf8();
  }
}

function vectorOf(type: DataType, values: readonly unknown[]): Vector<DataType> {
  // makeBuilder types a builder for the base DataType as Builder<any>: typed here, at the boundary.
  const b = makeBuilder({ type, nullValues: [null, undefined] }) as Builder<DataType>;
  for (const v of values) b.append(v);
  return b.finish().toVector();
}

function cellFor(col: ExtractedColumn, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (col.htype === 'json') return JSON.stringify(v);
  if (col.htype === 'generic' && col.dtype === 'bool' && !col.shapes) return Boolean(v);
  if (col.htype === 'generic' && col.shapes && col.dtype === 'bool') return Array.from(v as ArrayLike<number>, Boolean);
  return v;
}

export async function toArrow(ds: DatasetReader, options: ToArrowOptions = {}): Promise<Table> {
  const cols = await extractColumns(ds, options.columns, options.signal);
  return new Table([recordBatchOf(ds, cols, ds.length, options.signal)]);
}

/** Rows per batch of `toArrowBatches`. */
export const ARROW_BATCH_ROWS = 8192;

/**
 * `toArrow` as a stream of record batches of up to `batchRows` rows (default 8192), each read
 * when it is consumed (cells by row, not whole columns), so memory follows the batch, not the view.
 * Batches have `toArrow`'s schema; a view with no rows yields one empty batch. A generic column
 * without a declared shape gets its type from the first batch (tensors there: tensors in every
 * batch); one whose first tensor comes in a later batch throws UNSUPPORTED (declare its shape).
 */
export async function* toArrowBatches(
  ds: DatasetReader,
  options: ToArrowOptions & { readonly batchRows?: number } = {},
): AsyncGenerator<RecordBatch> {
  const step = options.batchRows ?? ARROW_BATCH_ROWS;
  if (!(step >= 1))
    throw new StrataError('INVALID_ARGUMENT', `toArrowBatches: batchRows must be at least 1, got ${step}`, {
      field: 'batchRows',
    });
  const rows = ds.indices();
  let first: Schema | null = null;
  let tensors: Set<string> | undefined;
  for (let s = 0; s === 0 || s < rows.length; s += step) {
    throwIfAborted(options.signal, 'toArrowBatches');
    const at = rows.subarray(s, Math.min(rows.length, s + step));
    const cols = await extractColumns(ds, options.columns, options.signal, at, tensors);
    tensors ??= new Set(cols.filter((c) => c.shapes).map((c) => c.name));
    const batch = recordBatchOf(ds, cols, at.length);
    first ??= batch.schema;
    const other = batch.schema.fields.find((f, i) => String(f.type) !== String(first!.fields[i]?.type));
    if (other || batch.schema.fields.length !== first.fields.length)
      throw new StrataError('UNSUPPORTED', `toArrowBatches: column ${other?.name ?? '?'} of ${ds.uri} changes type`, {
        column: other?.name,
        hint: 'declare the generic column with a shape, or use toArrow',
      });
    yield batch;
  }
}

function recordBatchOf(ds: DatasetReader, cols: readonly ExtractedColumn[], length: number, signal?: AbortSignal) {
  const fields: Field[] = [];
  const vectors: Vector<DataType>[] = [];
  for (const col of cols) {
    throwIfAborted(signal, 'toArrow');
    const type = typeOf(col);
    const metadata = new Map([
      [ARROW_META.htype, col.htype],
      [ARROW_META.dtype, col.dtype],
      [ARROW_META.meta, JSON.stringify(col.meta)],
    ]);
    fields.push(new Field(col.name, type, true, metadata));
    vectors.push(
      vectorOf(
        type,
        col.values.map((v) => cellFor(col, v)),
      ),
    );
    if (col.shapes) {
      const st = new List(new Field('item', new Int32(), false));
      fields.push(new Field(`${col.name}${SHAPE_SUFFIX}`, st, true, new Map([[ARROW_META.shapeOf, col.name]])));
      vectors.push(vectorOf(st, col.shapes));
    }
  }
  const schema = new Schema(
    fields,
    new Map([
      ['strata.source', ds.uri],
      ['strata.version', String(ds.version)],
    ]),
  );
  const data = makeData({
    type: new Struct(fields),
    length,
    nullCount: 0,
    children: vectors.map((v) => v.data[0]),
  });
  return new RecordBatch(schema, data);
}

/** Plain JS of an Arrow cell: nested vectors become arrays, numeric leaves typed arrays. */
function jsOf(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (
    typeof v === 'object' &&
    v !== null &&
    'type' in v &&
    typeof (v as Vector).toArray === 'function' &&
    'length' in v
  ) {
    const vec = v as Vector<DataType>;
    const t = vec.type.typeId;
    if (t === Type.List || t === Type.FixedSizeList || t === Type.Struct || t === Type.Utf8 || t === Type.Binary)
      return Array.from(vec, jsOf);
    return vec.toArray();
  }
  if (
    typeof v === 'object' &&
    typeof (v as { toJSON?: () => unknown }).toJSON === 'function' &&
    !(v instanceof Uint8Array)
  )
    return (v as { toJSON: () => unknown }).toJSON();
  return v;
}

/** Column spec of an Arrow field without Strata metadata. */
function inferSpec(field: Field, column: Vector): ColumnSpecInput {
  const t = field.type as DataType;
  if (DataTypeIs.int(t)) return intDType(t);
  if (DataTypeIs.float(t)) return floatDType(t);
  if (t.typeId === Type.Bool) return 'bool';
  if (t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8) return 'text';
  if (t.typeId === Type.Dictionary) return 'class_label';
  if (t.typeId === Type.Binary || t.typeId === Type.LargeBinary) {
    for (const v of column) {
      if (v === null) continue;
      if (sniffImage(v as Uint8Array)) return 'image';
      if (sniffVideo(v as Uint8Array)) return 'video';
      break;
    }
    throw new StrataError('UNSUPPORTED', `fromArrow: binary column ${field.name} holds neither images nor videos`, {
      column: field.name,
      hint: 'pass its type in options.schema',
    });
  }
  if (t.typeId === Type.FixedSizeList) {
    const child = (t as FixedSizeList<DataType>).children[0].type;
    if (DataTypeIs.float(child)) return { htype: 'embedding', dim: (t as FixedSizeList).listSize };
  }
  if (t.typeId === Type.List) {
    const child = (t as List<DataType>).children[0].type;
    if (child.typeId === Type.FixedSizeList && (child as FixedSizeList).listSize === 4)
      return { htype: 'bbox', format: 'ltrb' };
    if (DataTypeIs.int(child)) return intDType(child);
    if (DataTypeIs.float(child)) return floatDType(child);
  }
  return 'json';
}

const DataTypeIs = {
  int: (t: DataType): t is Int => t.typeId === Type.Int,
  float: (t: DataType): t is Float => t.typeId === Type.Float,
};

function intDType(t: Int): DType {
  return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}` as DType;
}

function floatDType(t: Float): DType {
  return t.precision === Precision.DOUBLE ? 'float64' : 'float32';
}

/**
 * The schema and rows of a new dataset from an Arrow table (`Dataset.fromArrow` writes them): Strata
 * field metadata restores every htype exactly; other fields are inferred.
 */
export function readArrowTable(table: Table, options: FromTableOptions = {}): TableImport {
  const fields = table.schema.fields;
  const shapeCols = new Map<string, string>();
  for (const f of fields) {
    const of = f.metadata.get(ARROW_META.shapeOf);
    if (of) shapeCols.set(of, f.name);
  }
  const schema: Record<string, ColumnSpecInput> = {};
  const kinds = new Map<string, { htype: string; dtype?: DType }>();
  for (const f of fields) {
    if (f.metadata.get(ARROW_META.shapeOf)) continue;
    const col = table.getChild(f.name)!;
    const htype = f.metadata.get(ARROW_META.htype);
    let spec: ColumnSpecInput;
    if (options.schema?.[f.name]) spec = options.schema[f.name];
    else if (htype) {
      const dtype = f.metadata.get(ARROW_META.dtype) as DType | undefined;
      spec = specFromMeta(
        f.name,
        htype,
        dtype,
        JSON.parse(f.metadata.get(ARROW_META.meta) ?? '{}') as Record<string, unknown>,
      );
    } else spec = inferSpec(f, col);
    schema[f.name] = spec;
    const s = typeof spec === 'string' ? { htype: spec } : spec;
    kinds.set(f.name, { htype: s.htype, dtype: (s as { dtype?: DType }).dtype });
  }
  const batchRows = options.batchRows ?? 4096;
  async function* batches(): AsyncGenerator<Record<string, unknown>[]> {
    const names = [...kinds.keys()];
    const vectors = new Map(names.map((n) => [n, table.getChild(n)!]));
    const shapeVectors = new Map([...shapeCols].map(([of, n]) => [of, table.getChild(n)!]));
    for (let start = 0; start < table.numRows; start += batchRows) {
      throwIfAborted(options.signal, 'fromArrow');
      const rows: Record<string, unknown>[] = [];
      for (let i = start; i < Math.min(table.numRows, start + batchRows); i++) {
        const row: Record<string, unknown> = {};
        for (const n of names)
          row[n] = fromArrowCell(kinds.get(n)!.htype, vectors.get(n)!.get(i), shapeVectors.get(n)?.get(i));
        rows.push(row);
      }
      yield rows;
    }
  }
  return { schema, message: options.message ?? 'import from arrow', batches: batches() };
}

function fromArrowCell(htype: string, v: unknown, shape: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (htype) {
    case 'json':
      return typeof v === 'string' ? JSON.parse(v) : jsOf(v);
    case 'class_label':
      return typeof v === 'bigint' ? Number(v) : v;
    case 'bbox':
      return (jsOf(v) as ArrayLike<number>[]).map((b) => Array.from(b));
    case 'embedding':
      return jsOf(v);
    case 'generic': {
      const flat = jsOf(v);
      if (typeof flat !== 'object' || flat === null) return flat;
      if (shape === undefined) return flat;
      return tensorValue(
        flat as ArrayLike<number>,
        shape === null ? null : Array.from(jsOf(shape) as ArrayLike<number>),
      );
    }
    default:
      return v;
  }
}
