import { StrataError, isStrataError } from '../../errors.js';
import { columnsOf } from '../expr/ast.js';
import { type ColumnTyper, typeOf } from '../expr/check.js';
import { scalarTypeOf } from '../expr/columns.js';
import { compileValue } from '../expr/evaluate.js';
import { parseExpression } from '../expr/parse.js';
import { validateColumnName } from '../schema.js';
import { type Row, type ViewColumn, type ViewPlan, findColumn, viewColumns, withColumns } from './view.js';

/**
 * The view with column `name` computed on read (replacing a column of that name in place): by `fn`
 * from the row's other columns, or by a SQL-like expression over them (`'width * height'`,
 * `"label = 'cat'"`: the filter language with `+ - * /`; null in, null out), evaluated a whole
 * column at a time. Nothing is stored; rows, values, filters, sorts and exports see it.
 * INVALID_ARGUMENT naming the column and the expression for a malformed or ill-typed expression.
 */
export function withColumn(plan: ViewPlan, name: string, fn: ((row: Row) => unknown) | string): ViewPlan {
  validateColumnName(name);
  const prior = viewColumns(plan);
  let col: ViewColumn;
  if (typeof fn === 'string') col = expressionColumn(plan, name, fn);
  else if (typeof fn === 'function') col = { name, kind: 'computed', prior, fn };
  else {
    throw new StrataError('INVALID_ARGUMENT', `withColumn: ${name} needs a function of the row or an expression`, {
      column: name,
      hint: `write withColumn('${name}', (r) => ...) or withColumn('${name}', 'width * height')`,
    });
  }
  const at = prior.findIndex((c) => c.name === name);
  return withColumns(plan, at < 0 ? [...prior, col] : prior.map((c, i) => (i === at ? col : c)));
}

/** The scalar type an expression sees for each column of the view, or why it has none. */
export function viewTyper(plan: ViewPlan): ColumnTyper {
  const cols = viewColumns(plan);
  return (name) => {
    const c = cols.find((x) => x.name === name);
    if (!c) return undefined;
    switch (c.kind) {
      case 'stored':
        return scalarTypeOf(plan.core.columnManifest(c.source));
      case 'extra':
        return { problem: 'is joined: its type is not known to expressions (use a function of the row)' };
      case 'computed':
        if (!c.expr) return { problem: 'is computed by a function: its type is not known to expressions' };
        // A column that is always NULL can stand wherever a number is expected.
        return { type: c.expr.type === 'null' ? 'number' : c.expr.type };
      case 'union':
        return viewTyper(c.parts[0].plan)(c.parts[0].col.name);
    }
  };
}

function expressionColumn(plan: ViewPlan, name: string, text: string): ViewColumn {
  const typer = viewTyper(plan);
  try {
    const e = parseExpression(text);
    const type = typeOf(e, typer);
    const used = columnsOf(e).map((c) => findColumn(plan, c, 'withColumn'));
    const run = compileValue(e, typer);
    const vector = (n: number, inputs: readonly ArrayLike<unknown>[]): unknown[] =>
      run({ n, column: (c) => inputs[used.findIndex((u) => u.name === c)] });
    return {
      name,
      kind: 'computed',
      prior: used,
      fn: (row) =>
        vector(
          1,
          used.map((u) => [row[u.name]]),
        )[0],
      expr: { type, vector },
    };
  } catch (err) {
    if (!isStrataError(err, 'INVALID_ARGUMENT')) throw err;
    const { hint } = err.details;
    const what = (
      hint && err.message.endsWith(` (${hint})`) ? err.message.slice(0, -hint.length - 3) : err.message
    ).replace(/^filter expression: /, '');
    throw new StrataError(
      'INVALID_ARGUMENT',
      `withColumn: the expression ${JSON.stringify(text)} for column ${name}: ${what}`,
      {
        ...err.details,
        column: typeof err.details.column === 'string' ? err.details.column : name,
        expression: text,
        cause: err,
      },
    );
  }
}
