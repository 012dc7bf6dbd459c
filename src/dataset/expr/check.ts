import { StrataError } from '../../errors.js';
import type { Expr } from './ast.js';

export const SCALAR_TYPES = ['number', 'string', 'bool'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];
/** A node's type; 'null' is the type of the NULL literal (compatible with every other). */
export type ExprType = ScalarType | 'null';

/** What a filter needs to know of a column: its scalar type, or why it cannot be filtered on. */
export type ColumnTyper = (name: string) => { type: ScalarType } | { problem: string } | undefined;

function typeError(e: Expr, what: string, column?: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `filter expression: ${what} at position ${e.pos}`, {
    field: `expression@${e.pos}`,
    ...(column !== undefined ? { column } : {}),
    hint: 'compare numbers with numbers and strings with strings; combine conditions with AND/OR',
  });
}

/**
 * Checks `e` against the dataset's columns and returns its type; INVALID_ARGUMENT naming the
 * position (and the column) for an unknown or non-scalar column or mismatched operand types. A
 * filter's expression must be boolean.
 */
export function checkFilter(e: Expr, columns: ColumnTyper): void {
  const t = typeOf(e, columns);
  if (t !== 'bool' && t !== 'null') throw typeError(e, `the expression is a ${t}, not a condition`);
}

export function typeOf(e: Expr, columns: ColumnTyper): ExprType {
  const same = (a: Expr, b: Expr, what: string): ExprType => {
    const ta = typeOf(a, columns);
    const tb = typeOf(b, columns);
    if (ta !== 'null' && tb !== 'null' && ta !== tb) throw typeError(b, `${what} a ${ta} with a ${tb}`);
    return ta === 'null' ? tb : ta;
  };
  const want = (a: Expr, type: ScalarType, what: string): void => {
    const t = typeOf(a, columns);
    if (t !== 'null' && t !== type) throw typeError(a, `${what} needs a ${type}, got a ${t}`);
  };
  switch (e.kind) {
    case 'column': {
      const c = columns(e.name);
      if (c === undefined) throw typeError(e, `no column ${JSON.stringify(e.name)}`, e.name);
      if ('problem' in c) throw typeError(e, `column ${JSON.stringify(e.name)} ${c.problem}`, e.name);
      return c.type;
    }
    case 'literal':
      return e.value === null
        ? 'null'
        : typeof e.value === 'boolean'
          ? 'bool'
          : (typeof e.value as 'number' | 'string');
    case 'not':
      want(e.arg, 'bool', 'NOT');
      return 'bool';
    case 'neg':
      want(e.arg, 'number', 'unary minus');
      return 'number';
    case 'logic':
      want(e.left, 'bool', e.op);
      want(e.right, 'bool', e.op);
      return 'bool';
    case 'compare':
      same(e.left, e.right, 'cannot compare');
      return 'bool';
    case 'arith':
      want(e.left, 'number', e.op);
      want(e.right, 'number', e.op);
      return 'number';
    case 'in':
      for (const x of e.list) same(e.arg, x, 'IN cannot compare');
      return 'bool';
    case 'between':
      same(e.arg, e.lo, 'BETWEEN cannot compare');
      same(e.arg, e.hi, 'BETWEEN cannot compare');
      return 'bool';
    case 'isNull':
      typeOf(e.arg, columns);
      return 'bool';
    case 'like':
      want(e.arg, 'string', 'LIKE');
      want(e.pattern, 'string', 'LIKE pattern');
      return 'bool';
  }
}
