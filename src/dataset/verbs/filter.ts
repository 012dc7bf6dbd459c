import { StrataError, throwIfAborted } from '../../errors.js';
import type { DatasetCore } from '../core.js';
import {
  type Frame,
  NO_EXTRA,
  type Row,
  RowSource,
  type ViewPlan,
  columnValues,
  findColumn,
  selectRows,
  viewColumns,
} from './view.js';
import { columnsOf } from '../expr/ast.js';
import { checkFilter } from '../expr/check.js';
import { TRUE, compileFilter } from '../expr/evaluate.js';
import { columnTyper } from '../expr/columns.js';
import { parseExpression } from '../expr/parse.js';
import { filterByExpression } from '../ops/filter-expr.js';
import { viewTyper } from './with-column.js';

export type RowPredicate<R extends object = Row> = (row: Readonly<R>, index: number) => boolean;
/** `{ label: 'cat' }` keeps rows whose values equal all given ones (arrays: any of). */
export type RowMatch = Readonly<Record<string, unknown>>;

/** What `filter` takes: a function of the row, or a match object. */
export type FilterArgument<R extends object = Row> = RowPredicate<R> | RowMatch;

/**
 * The row test and the columns it reads, for a function of the row or a match object (expressions
 * are compiled by `filterByExpression`).
 */
function compile(plan: ViewPlan, predicate: FilterArgument): { test: RowPredicate; used: string[] } {
  if (typeof predicate === 'function') return { test: predicate, used: viewColumns(plan).map((c) => c.name) };
  if (typeof predicate !== 'object' || predicate === null || Array.isArray(predicate)) {
    throw new StrataError('INVALID_ARGUMENT', 'filter: expected a function of the row or a match object', {
      hint: "write filter((r) => r.score > 0.5) or filter({ label: 'cat' })",
    });
  }
  const entries = Object.entries(predicate);
  for (const [k] of entries) findColumn(plan, k, 'filter');
  return {
    test: (row) => entries.every(([k, want]) => (Array.isArray(want) ? want.includes(row[k]) : row[k] === want)),
    used: entries.map(([k]) => k),
  };
}

/** Positions of `frame` whose row passes; only the columns the predicate can see are loaded. */
async function passing(
  plan: ViewPlan,
  frame: Frame,
  test: RowPredicate,
  used: readonly string[],
  signal?: AbortSignal,
): Promise<Uint32Array> {
  const cols = used.map((c) => findColumn(plan, c));
  const values: unknown[][] = [];
  for (const c of cols) values.push(await columnValues(plan.core, frame, c, signal));
  const out = new Uint32Array(frame.rows.length);
  let n = 0;
  for (let j = 0; j < frame.rows.length; j++) {
    if ((j & 0xffff) === 0) throwIfAborted(signal, 'filter');
    const row: Row = {};
    for (let k = 0; k < cols.length; k++) row[cols[k].name] = values[k][j];
    if (test(row, j)) out[n++] = j;
  }
  return out.subarray(0, n);
}

/** The rows of the view that pass (lazy: nothing is read until a terminal runs). */
export function filter(plan: ViewPlan, predicate: FilterArgument | string): ViewPlan {
  if (typeof predicate === 'string') return filterExpression(plan, predicate);
  const { test, used } = compile(plan, predicate);
  return selectRows(plan, (frame, signal) => passing(plan, frame, test, used, signal));
}

/** Physical row numbers of `rows` whose stored columns pass (for delete and update). */
export async function filterRows(
  core: DatasetCore,
  rows: Uint32Array,
  columns: readonly string[],
  predicate: FilterArgument,
  signal?: AbortSignal,
): Promise<Uint32Array> {
  const plan: ViewPlan = {
    core,
    rows: RowSource.of({ rows, extra: NO_EXTRA }),
    columns: columns.map((name) => ({ name, kind: 'stored', source: name })),
  };
  const { test, used } = compile(plan, predicate);
  const positions = await passing(plan, { rows, extra: NO_EXTRA }, test, used, signal);
  return Uint32Array.from(positions, (p) => rows[p]);
}

/**
 * The rows for which the SQL-like expression is TRUE; parsed and type-checked now, run when the
 * view resolves. Over stored columns under their own names it reads only the chunks its
 * statistics cannot rule out; over renamed, expression or concatenated columns it evaluates their
 * values a column at a time (joined and function columns are not visible to it).
 */
function filterExpression(plan: ViewPlan, text: string): ViewPlan {
  const cols = viewColumns(plan);
  const stored = cols.filter((c) => c.kind === 'stored' && c.name === c.source).map((c) => c.name);
  const e = parseExpression(text);
  const used = columnsOf(e);
  if (used.every((c) => stored.includes(c)) || used.some((c) => !cols.some((x) => x.name === c))) {
    checkFilter(e, columnTyper(plan.core.manifest.columns, stored));
    return selectRows(plan, async (frame, signal) =>
      positionsOf(frame.rows, await filterByExpression(plan.core, frame.rows, stored, text, signal)),
    );
  }
  const typer = viewTyper(plan);
  checkFilter(e, typer);
  const run = compileFilter(e, typer);
  const inputs = used.map((c) => findColumn(plan, c, 'filter'));
  return selectRows(plan, async (frame, signal) => {
    const values: unknown[][] = [];
    for (const c of inputs) values.push(await columnValues(plan.core, frame, c, signal));
    const result = run({ n: frame.rows.length, column: (c) => values[used.indexOf(c)] });
    const out = new Uint32Array(frame.rows.length);
    let n = 0;
    for (let j = 0; j < result.length; j++) if (result[j] === TRUE) out[n++] = j;
    return out.subarray(0, n);
  });
}

/** Positions in `rows` of `kept`, a subsequence of `rows` in the same order. */
function positionsOf(rows: Uint32Array, kept: Uint32Array): Uint32Array {
  const out = new Uint32Array(kept.length);
  for (let j = 0, k = 0; j < rows.length && k < kept.length; j++) if (rows[j] === kept[k]) out[k++] = j;
  return out;
}
