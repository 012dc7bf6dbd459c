import { StrataError } from '../../errors.js';
import { FALSE, NULL, TRUE, type Value, and3, compareConst, comparer, likeRegExp, or3 } from './kernels.js';
import type { Expr } from './ast.js';
import { type ColumnTyper, type ExprType, typeOf } from './check.js';

export { FALSE, NULL, TRUE } from './kernels.js';

/** A node's result: one value for every row, or one per row. Conditions hold FALSE/TRUE/NULL codes. */
type Result = { readonly c: Value } | { readonly v: ArrayLike<Value> };

/** The rows an expression is evaluated over: `n` rows, and the values of a column at those rows. */
export interface EvalInput {
  readonly n: number;
  column(name: string): ArrayLike<unknown>;
}

/**
 * Compiles a checked filter expression into a vectorized evaluator: per row TRUE, FALSE or NULL
 * (SQL three-valued logic; a filter keeps the TRUE rows, so a comparison with NULL drops the row,
 * as DuckDB's WHERE does). Numbers compare with NaN above every number and equal to itself, strings
 * in code-point order, as DuckDB does.
 */
export function compileFilter(e: Expr, typer: ColumnTyper): (input: EvalInput) => Uint8Array {
  return (input) => {
    const r = asCondition(evaluate(e, typer, input));
    if ('v' in r) return r.v as Uint8Array;
    return new Uint8Array(input.n).fill(r.c as number);
  };
}

/**
 * Compiles a checked expression of any type into a vectorized evaluator of its values, one per row:
 * numbers, strings, booleans or null (SQL semantics: null in, null out; a condition is null when
 * SQL's three-valued logic says so). Used by `withColumn(name, expression)`.
 */
export function compileValue(e: Expr, typer: ColumnTyper): (input: EvalInput) => unknown[] {
  const type = typeOf(e, typer);
  return (input) => {
    const r = type === 'bool' ? asCondition(evaluate(e, typer, input)) : evaluate(e, typer, input);
    const out = new Array<unknown>(input.n);
    const at = (v: Value): unknown => (type === 'bool' ? (v === NULL ? null : v === TRUE) : (v ?? null));
    if ('c' in r) return out.fill(at(r.c));
    for (let i = 0; i < input.n; i++) out[i] = at(r.v[i]);
    return out;
  };
}

function evaluate(e: Expr, typer: ColumnTyper, input: EvalInput): Result {
  const ev = (x: Expr): Result => evaluate(x, typer, input);
  const evb = (x: Expr): Result => asCondition(ev(x));
  const evt = (x: Expr, t: ExprType): Result => (t === 'bool' ? evb(x) : ev(x));
  const n = input.n;
  switch (e.kind) {
    case 'column':
      return { v: loadColumn(e.name, typeOf(e, typer), input.column(e.name)) };
    case 'literal':
      return { c: typeof e.value === 'boolean' ? Number(e.value) : e.value };
    case 'not':
      return map1(evb(e.arg), n, (a) => (a === NULL ? NULL : 1 - (a as number)), true);
    case 'neg':
      return map1(ev(e.arg), n, (a) => (a === null ? null : -(a as number)), false);
    case 'logic': {
      const and = e.op === 'AND';
      const l = evb(e.left);
      const r = evb(e.right);
      if ('v' in l && 'v' in r) return { v: (and ? and3 : or3)(l.v as Uint8Array, r.v as Uint8Array) };
      return map2(l, r, n, true, (a, b) => {
        if (and) return a === FALSE || b === FALSE ? FALSE : a === NULL || b === NULL ? NULL : TRUE;
        return a === TRUE || b === TRUE ? TRUE : a === NULL || b === NULL ? NULL : FALSE;
      });
    }
    case 'compare': {
      const t = operandType(e.left, e.right, typer);
      const test = comparer(e.op, t);
      const nil = t === 'bool' ? NULL : null;
      const l = evt(e.left, t);
      const r = evt(e.right, t);
      if ('v' in l && 'c' in r && t !== 'bool' && r.c !== null) return { v: compareConst(l.v, e.op, t, r.c) };
      return map2(l, r, n, true, (a, b) => (a === nil || b === nil ? NULL : test(a!, b!) ? TRUE : FALSE));
    }
    case 'arith': {
      const f = arith[e.op];
      return map2(ev(e.left), ev(e.right), n, false, (a, b) =>
        a === null || b === null ? null : f(a as number, b as number),
      );
    }
    case 'in': {
      const t = operandType(e.arg, e.list[0], typer);
      const eq = comparer('=', t);
      const nil = t === 'bool' ? NULL : null;
      let out: Result = { c: FALSE };
      for (const item of e.list) {
        const r = map2(evt(e.arg, t), evt(item, t), n, true, (a, b) =>
          a === nil || b === nil ? NULL : eq(a!, b!) ? TRUE : FALSE,
        );
        out = map2(out, r, n, true, (a, b) =>
          a === TRUE || b === TRUE ? TRUE : a === NULL || b === NULL ? NULL : FALSE,
        );
      }
      return e.negated ? map1(out, n, (a) => (a === NULL ? NULL : 1 - (a as number)), true) : out;
    }
    case 'between': {
      const lo: Expr = { kind: 'compare', op: '>=', left: e.arg, right: e.lo, pos: e.pos };
      const hi: Expr = { kind: 'compare', op: '<=', left: e.arg, right: e.hi, pos: e.pos };
      const both: Expr = { kind: 'logic', op: 'AND', left: lo, right: hi, pos: e.pos };
      return ev(e.negated ? { kind: 'not', arg: both, pos: e.pos } : both);
    }
    case 'isNull': {
      const t = typeOf(e.arg, typer);
      const nil = t === 'bool' ? NULL : null;
      return map1(evt(e.arg, t), n, (a) => ((a === nil) !== e.negated ? TRUE : FALSE), true);
    }
    case 'like': {
      const cache = new Map<string, RegExp>();
      const re = (p: string): RegExp => {
        let r = cache.get(p);
        if (!r) cache.set(p, (r = likeRegExp(p)));
        return r;
      };
      return map2(ev(e.arg), ev(e.pattern), n, true, (a, p) =>
        a === null || p === null ? NULL : re(p as string).test(a as string) !== e.negated ? TRUE : FALSE,
      );
    }
  }
}

/** A condition's result with a NULL literal as the NULL truth code. */
function asCondition(r: Result): Result {
  return 'c' in r && r.c === null ? { c: NULL } : r;
}

function operandType(a: Expr, b: Expr, typer: ColumnTyper): ExprType {
  const t = typeOf(a, typer);
  return t === 'null' ? typeOf(b, typer) : t;
}

const arith = {
  '+': (a: number, b: number) => a + b,
  '-': (a: number, b: number) => a - b,
  '*': (a: number, b: number) => a * b,
  '/': (a: number, b: number) => a / b,
} as const;

function map1(a: Result, n: number, f: (a: Value) => Value, cond: boolean): Result {
  if ('c' in a) return { c: f(a.c) };
  const out = cond ? new Uint8Array(n) : new Array<Value>(n);
  const v = a.v;
  for (let i = 0; i < n; i++) out[i] = f(v[i]);
  return { v: out };
}

function map2(a: Result, b: Result, n: number, cond: boolean, f: (a: Value, b: Value) => Value): Result {
  if ('c' in a && 'c' in b) return { c: f(a.c, b.c) };
  const out = cond ? new Uint8Array(n) : new Array<Value>(n);
  if ('c' in b) {
    const av = (a as { v: ArrayLike<Value> }).v;
    const c = b.c;
    for (let i = 0; i < n; i++) out[i] = f(av[i], c);
  } else if ('c' in a) {
    const c = a.c;
    const bv = b.v;
    for (let i = 0; i < n; i++) out[i] = f(c, bv[i]);
  } else {
    const av = a.v;
    const bv = b.v;
    for (let i = 0; i < n; i++) out[i] = f(av[i], bv[i]);
  }
  return { v: out };
}

/** A column's values as the evaluator's values: numbers (64-bit ints widened), strings, or truth codes for bools. */
function loadColumn(name: string, type: ExprType, values: ArrayLike<unknown>): ArrayLike<Value> {
  const n = values.length;
  const bad = (row: number): StrataError =>
    new StrataError('INVALID_ARGUMENT', `filter expression: column ${name} holds a non-scalar value at row ${row}`, {
      column: name,
      row,
      hint: 'filter on scalar columns (numbers, strings, bools, class labels)',
    });
  if (type === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) out[i] = NULL;
      else if (typeof v === 'boolean') out[i] = v ? TRUE : FALSE;
      else throw bad(i);
    }
    return out;
  }
  let out: Value[] | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || (type === 'number' ? typeof v === 'number' : typeof v === 'string')) continue;
    out ??= Array.from(values as ArrayLike<Value>);
    if (v === undefined) out[i] = null;
    else if (type === 'number' && typeof v === 'bigint') out[i] = Number(v);
    else if (type === 'string' && typeof v === 'number') out[i] = String(v);
    else throw bad(i);
  }
  return out ?? (values as ArrayLike<Value>);
}
