import {
  Bool,
  type DataType,
  Float64,
  Utf8,
  Field,
  RecordBatch,
  Schema,
  Struct,
  Table,
  type Vector,
  makeData,
  vectorFromArray,
} from 'apache-arrow';
import {
  RowSource,
  type ViewColumn,
  type ViewPlan,
  columnValues,
  findColumn,
  partOf,
  pick,
  unionParts,
  viewColumns,
} from './view.js';

/** A column of the view for `withViewColumns`: a child of the stored table (maybe renamed), or values computed on read. */
export type ArrowColumn =
  | { readonly name: string; readonly source: string }
  | { readonly name: string; readonly values: readonly unknown[]; readonly type?: DataType };

/**
 * The Arrow table of a view with renamed, computed or joined columns: stored columns come from
 * `stored` (the export of their source columns, with their Strata field metadata and shape
 * columns), the others are built from their values with Arrow's type inference.
 */
function withViewColumns(stored: Table, columns: readonly ArrowColumn[], suffix: string): Table {
  const fields: Field[] = [];
  const vectors: Vector<DataType>[] = [];
  const add = (name: string, from: string): void => {
    const i = stored.schema.fields.findIndex((f) => f.name === from);
    if (i < 0) return;
    const f = stored.schema.fields[i];
    fields.push(new Field(name, f.type, f.nullable, f.metadata));
    vectors.push(stored.getChildAt(i)!);
  };
  for (const c of columns) {
    if ('source' in c) {
      add(c.name, c.source);
      add(`${c.name}${suffix}`, `${c.source}${suffix}`);
      continue;
    }
    const values = c.values.map((v) => (v === undefined ? null : v));
    const vector: Vector<DataType> = c.type
      ? vectorFromArray(values as unknown[], c.type)
      : (vectorFromArray(values as unknown[]) as Vector<DataType>);
    fields.push(new Field(c.name, vector.type, true));
    vectors.push(vector);
  }
  const schema = new Schema(fields, stored.schema.metadata);
  const data = makeData({
    type: new Struct(fields),
    length: stored.numRows,
    nullCount: 0,
    children: vectors.map((v) => (v.data.length === 1 ? v.data[0] : vectorFromArray([...v], v.type).data[0])),
  });
  return new Table([new RecordBatch(schema, data)]);
}

/**
 * A resolved view (`plan` with known rows) as an Arrow table: `exportStored` exports stored columns
 * under their own names (src/interop/arrow.ts); renamed, computed and joined columns are added on top.
 */
export async function viewToArrow(
  plan: ViewPlan,
  options: { readonly columns?: readonly string[]; readonly signal?: AbortSignal },
  exportStored: (plan: ViewPlan, options: { columns?: readonly string[]; signal?: AbortSignal }) => Promise<Table>,
): Promise<Table> {
  const cols = options.columns ? options.columns.map((c) => findColumn(plan, c, 'toArrow')) : viewColumns(plan);
  if (cols.every((c) => c.kind === 'stored' && c.name === c.source)) return exportStored(plan, options);
  const frame = plan.rows.known(plan.core)!;
  const unions = cols.filter((c): c is Union => c.kind === 'union');
  if (unions.length) {
    // Views concatenated across datasets: each run of rows exported from its own view, then joined.
    const stored = await exportUnion(plan, unions, options.signal, exportStored);
    const out: ArrowColumn[] = [];
    for (const c of cols) {
      if (c.kind === 'union') out.push({ name: c.name, source: c.name });
      else out.push({ name: c.name, values: await columnValues(plan.core, frame, c, options.signal) });
    }
    return withViewColumns(stored, out, '__shape');
  }
  const sources = [...new Set(cols.flatMap((c) => (c.kind === 'stored' ? [c.source] : [])))];
  const columns = sources.map((s) => ({ name: s, kind: 'stored', source: s }) as const);
  const stored = await exportStored({ ...plan, columns }, { signal: options.signal });
  const out: ArrowColumn[] = [];
  for (const c of cols) {
    if (c.kind === 'stored') {
      out.push(c);
      continue;
    }
    const values = await columnValues(plan.core, frame, c, options.signal);
    const type = c.kind === 'computed' && c.expr ? arrowTypeOf(c.expr.type) : undefined;
    out.push({ name: c.name, values, ...(type ? { type } : {}) });
  }
  return withViewColumns(stored, out, '__shape');
}

type Union = Extract<ViewColumn, { kind: 'union' }>;
type ExportStored = (plan: ViewPlan, options: { columns?: readonly string[]; signal?: AbortSignal }) => Promise<Table>;

/** The `union` columns of a resolved view as one table: consecutive rows of one part exported by that part's view. */
async function exportUnion(
  plan: ViewPlan,
  unions: readonly Union[],
  signal: AbortSignal | undefined,
  exportStored: ExportStored,
): Promise<Table> {
  const frame = plan.rows.known(plan.core)!;
  const parts = await unionParts(unions[0], signal);
  const run = async (k: number, local: number[]): Promise<Table> => {
    const part = parts[k];
    const columns = unions.map((u) => ({ ...u.parts[k].col, name: u.name }));
    const p: ViewPlan = { core: part.plan.core, rows: RowSource.of(pick(part.frame, local)), columns };
    return viewToArrow(p, { signal }, exportStored);
  };
  const tables: Table[] = [];
  let k = -1;
  let local: number[] = [];
  for (const r of frame.rows) {
    const at = partOf(parts, r);
    if (at !== k && local.length) tables.push(await run(k, local));
    if (at !== k) local = [];
    k = at;
    local.push(r - parts[at].offset);
  }
  if (local.length || tables.length === 0) tables.push(await run(Math.max(k, 0), local));
  return tables.length === 1 ? tables[0] : tables[0].concat(...tables.slice(1));
}

/** The Arrow type of an expression's values (numbers are doubles, as DuckDB's `/` gives). */
function arrowTypeOf(type: 'number' | 'string' | 'bool' | 'null'): DataType {
  return type === 'string' ? new Utf8() : type === 'bool' ? new Bool() : new Float64();
}
