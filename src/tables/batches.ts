/**
 * Rows of a text table (CSV cells or JSON values) → Arrow record batches of one schema. The first
 * `inferRows` rows are held to type the undeclared columns; after that, rows are typed as they come
 * and a value that does not fit its column (or a column not seen in the window) is an error naming
 * the file, line and column, so nothing is silently converted.
 */
import * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../errors.js';
import { JSON_EXTENSION, type TableDtype } from './dtypes.js';
import { CsvDtypeVote, csvCellFits, inferCsvDtype, jsonValueFits } from './infer.js';
import { DtypeVote, inferDtype } from './dtypes.js';
import { vectorOf } from './values.js';
import { declaredValueFits } from './declared.js';

/** One row of a text table: its values by column, and the line it starts on. */
export interface TextRow {
  readonly values: Readonly<Record<string, unknown>>;
  readonly line: number;
}

export interface TypingOptions {
  readonly file: string;
  /** 'csv': values are cell text; 'json': values are parsed JSON. */
  readonly kind: 'csv' | 'json';
  /** The header (CSV); JSON columns are those seen in the window, in first-seen order. */
  readonly columns?: readonly string[];
  readonly schema?: Readonly<Record<string, TableDtype>>;
  /** 'values' types undeclared columns from the window; 'none' keeps CSV cells as text and JSON values as JSON text. */
  readonly infer: 'values' | 'none';
  readonly inferRows: number;
  readonly batchRows: number;
  /** The column types, already found (`streamTypes`): no rows are held to type the table. */
  readonly types?: ReadonlyMap<string, TableDtype>;
  readonly signal?: AbortSignal;
}

export async function* typedBatches(
  chunks: AsyncIterable<readonly TextRow[]>,
  o: TypingOptions,
): AsyncGenerator<A.RecordBatch> {
  const window: TextRow[] = [];
  let types: ReadonlyMap<string, TableDtype> | undefined = o.types;
  let pending: TextRow[] = [];
  let emitted = false;
  let any = false;
  for await (const rows of chunks)
    for (const row of rows) {
      any = true;
      if (!types) {
        window.push(row);
        if (window.length < o.inferRows) continue;
        types = typesOf(window, o);
        pending = window.splice(0);
      } else {
        check(row, types, o);
        pending.push(row);
      }
      while (pending.length >= o.batchRows) {
        throwIfAborted(o.signal, `reading ${o.file}`);
        emitted = true;
        yield batchOf(pending.splice(0, o.batchRows), types, o);
      }
    }
  if (!any && !o.columns?.length) return;
  if (!types) {
    types = typesOf(window, o);
    pending = window;
  }
  // a file with a header and no rows still yields one empty batch, so its columns are known
  if (pending.length === 0 && !emitted) yield batchOf([], types, o);
  for (let at = 0; at < pending.length; at += o.batchRows) yield batchOf(pending.slice(at, at + o.batchRows), types, o);
}

/**
 * The types `typedBatches` would find with a window of every row, found in one pass that holds one
 * vote per column and no rows (a CSV whose every column is declared or kept as text stops after the
 * header). Read the rows again with `{ types }` to get the batches.
 */
export async function streamTypes(
  chunks: AsyncIterable<readonly TextRow[]>,
  o: TypingOptions,
): Promise<Map<string, TableDtype>> {
  const fixed = (name: string) => o.schema?.[name] !== undefined || o.infer === 'none';
  const votes = new Map<string, { add(v: never): boolean } | undefined>();
  let n = 0;
  read: for await (const rows of chunks) {
    throwIfAborted(o.signal, `reading ${o.file}`);
    for (const row of rows) {
      if (++n === 1 && o.kind === 'csv' && o.columns?.every(fixed)) break read;
      for (const name in row.values) {
        let vote = votes.get(name);
        if (vote === undefined && !votes.has(name)) {
          vote = fixed(name) ? undefined : o.kind === 'csv' ? new CsvDtypeVote() : new DtypeVote();
          votes.set(name, vote);
        }
        vote?.add(row.values[name] as never);
      }
    }
  }
  const types = new Map<string, TableDtype>();
  for (const name of o.columns ?? votes.keys()) {
    const declared = o.schema?.[name];
    if (declared) types.set(name, declared);
    else if (o.infer === 'none') types.set(name, o.kind === 'csv' ? 'string' : 'json');
    else types.set(name, (votes.get(name) as { dtype: TableDtype } | undefined)?.dtype ?? 'string');
  }
  return types;
}

function typesOf(window: readonly TextRow[], o: TypingOptions): Map<string, TableDtype> {
  const names = o.columns ? [...o.columns] : [];
  if (!o.columns) {
    const seen = new Set<string>();
    for (const r of window)
      for (const k of Object.keys(r.values)) {
        if (!seen.has(k)) names.push(k);
        seen.add(k);
      }
  }
  const types = new Map<string, TableDtype>();
  for (const name of names) {
    const declared = o.schema?.[name];
    if (declared) types.set(name, declared);
    else if (o.infer === 'none') types.set(name, o.kind === 'csv' ? 'string' : 'json');
    else if (o.kind === 'csv') types.set(name, inferCsvDtype(window.map((r) => r.values[name] as string)));
    else types.set(name, inferDtype(window.map((r) => r.values[name])));
  }
  return types;
}

function check(row: TextRow, types: ReadonlyMap<string, TableDtype>, o: TypingOptions): void {
  for (const [name, v] of Object.entries(row.values)) {
    const dtype = types.get(name);
    if (dtype === undefined)
      throw new StrataError(
        'INVALID_ARGUMENT',
        `${o.file}, line ${row.line}: column ${name} first appears after the rows used to type the table`,
        {
          file: o.file,
          line: row.line,
          column: name,
          hint: `declare it in schema, or read with a larger inferRows`,
        },
      );
    if (o.schema?.[name] || o.infer === 'none') continue;
    const fits = o.kind === 'csv' ? csvCellFits(v as string, dtype) : jsonValueFits(v, dtype);
    if (!fits)
      throw new StrataError(
        'INVALID_ARGUMENT',
        `${o.file}, line ${row.line}: column ${name} holds ${JSON.stringify(v)}, not a ${dtype}`,
        {
          file: o.file,
          line: row.line,
          column: name,
          hint: `the first rows typed ${name} as ${dtype}; declare its type in schema, or read with a larger inferRows`,
        },
      );
  }
}

function batchOf(rows: readonly TextRow[], types: ReadonlyMap<string, TableDtype>, o: TypingOptions): A.RecordBatch {
  const fields: A.Field[] = [];
  const vectors: A.Vector[] = [];
  for (const [name, dtype] of types) {
    // an empty CSV cell is null, unless the column is kept as text
    const keepEmpty = o.kind === 'csv' && o.infer === 'none' && !o.schema?.[name];
    const values = rows.map((r) => {
      const v = r.values[name];
      return v === '' && o.kind === 'csv' && !keepEmpty ? null : v;
    });
    if (o.schema?.[name] !== undefined) checkDeclared(rows, values, name, dtype, o);
    const vec = vectorOf(values, dtype);
    vectors.push(vec);
    fields.push(new A.Field(name, vec.type, true, dtype === 'json' ? new Map(JSON_EXTENSION) : undefined));
  }
  return recordBatch(fields, vectors, rows.length);
}

/** Every value of a declared column converts to its dtype as it is (else a typed error naming the line). */
function checkDeclared(
  rows: readonly TextRow[],
  values: readonly unknown[],
  name: string,
  dtype: TableDtype,
  o: TypingOptions,
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (declaredValueFits(v, dtype, o.kind)) continue;
    const line = rows[i].line;
    throw new StrataError(
      'INVALID_ARGUMENT',
      `${o.file}, line ${line}: column ${name} holds ${typeof v === 'bigint' ? String(v) : JSON.stringify(v)}, not a ${dtype}`,
      {
        file: o.file,
        line,
        column: name,
        hint: `the schema declares ${name} as ${dtype}: fix the value, or declare another type`,
      },
    );
  }
}

/** A record batch from one vector per field (multi-chunk vectors are joined). */
export function recordBatch(fields: A.Field[], vectors: readonly A.Vector[], length: number): A.RecordBatch {
  const children: A.Data[] = vectors.map((v): A.Data => tight(v.data.length === 1 ? (v.data[0] as A.Data) : joined(v)));
  const type = new A.Struct(fields);
  return new A.RecordBatch(new A.Schema(fields), A.makeData({ type, length, children, nullCount: 0 }));
}

/** The data with buffers no longer than they need (Arrow's builders leave up to twice the capacity). */
function tight(d: A.Data): A.Data {
  const trim = <T extends ArrayBufferView>(b: T | undefined): T | undefined =>
    b && b.byteLength < b.buffer.byteLength ? (b as unknown as { slice(): T }).slice() : b;
  const buffers = [trim(d.valueOffsets), trim(d.values as ArrayBufferView), trim(d.nullBitmap), trim(d.typeIds)];
  return new A.Data(d.type, d.offset, d.length, d.nullCount, buffers as never, d.children.map(tight), d.dictionary);
}

function joined(v: A.Vector): A.Data {
  return A.vectorFromArray(v.toArray() as never, v.type as never).data[0];
}
