/**
 * `where` filters compiled to row predicates (expr.ts parses them): SQL three-valued logic, values
 * compared as numbers when both read as numbers, else as text.
 */
import type { Expr, Operand } from './expr.js';
import { compileValue } from './expr-value.js';

type V = number | string | boolean | null;
/** 1 true, 0 false, -1 unknown. */
type Tri = 1 | 0 | -1;

function norm(v: unknown): V {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  // Any other value (an Arrow list vector, struct row, decimal or binary; a pushed list or object)
  // compares by its String() text.
  const cell: { toString(): string } = v;
  return String(cell);
}

function compare(a: V, b: V): number | null {
  if (a === null || b === null) return null;
  if (typeof a === 'boolean') a = a ? 1 : 0;
  if (typeof b === 'boolean') b = b ? 1 : 0;
  if (typeof a !== typeof b) {
    const na = Number(a);
    const nb = Number(b);
    if (Number.isNaN(na) || Number.isNaN(nb)) return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
    a = na;
    b = nb;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compiles to a row predicate: `get(column)` returns the row's value. */
export function compileExpr(e: Expr): (get: (col: string) => unknown) => Tri {
  const val = (o: Operand): ((g: (c: string) => unknown) => V) => {
    if ('col' in o) {
      const c = o.col;
      return (g) => norm(g(c));
    }
    if ('lit' in o) {
      const l = o.lit;
      return () => l;
    }
    // arithmetic and functions (`now` is refused in filters by validation: it has no time here)
    const f = compileValue(o);
    return (g) => norm(f(g, Number.NaN));
  };
  switch (e.t) {
    case 'and': {
      const a = compileExpr(e.a);
      const b = compileExpr(e.b);
      return (g) => {
        const x = a(g);
        if (x === 0) return 0;
        const y = b(g);
        return y === 0 ? 0 : x === -1 || y === -1 ? -1 : 1;
      };
    }
    case 'or': {
      const a = compileExpr(e.a);
      const b = compileExpr(e.b);
      return (g) => {
        const x = a(g);
        if (x === 1) return 1;
        const y = b(g);
        return y === 1 ? 1 : x === -1 || y === -1 ? -1 : 0;
      };
    }
    case 'not': {
      const a = compileExpr(e.a);
      return (g) => {
        const x = a(g);
        return x === -1 ? -1 : x === 1 ? 0 : 1;
      };
    }
    case 'null': {
      const x = val(e.x);
      const neg = e.neg;
      return (g) => ((x(g) === null) !== neg ? 1 : 0);
    }
    case 'in': {
      const x = val(e.x);
      const { list, neg } = e;
      return (g) => {
        const v = x(g);
        if (v === null) return -1;
        let sawNull = false;
        for (const item of list) {
          const c = compare(v, item);
          if (c === null) sawNull = true;
          else if (c === 0) return neg ? 0 : 1;
        }
        return sawNull ? -1 : neg ? 1 : 0;
      };
    }
    case 'truthy': {
      const x = val(e.x);
      return (g) => {
        const v = x(g);
        return v === null ? -1 : v ? 1 : 0;
      };
    }
    case 'cmp': {
      const l = val(e.l);
      const r = val(e.r);
      const test = cmpTest(e.op);
      return (g) => {
        const c = compare(l(g), r(g));
        return c === null ? -1 : test(c) ? 1 : 0;
      };
    }
  }
}

function cmpTest(op: string): (c: number) => boolean {
  switch (op) {
    case '=':
    case '==':
      return (c) => c === 0;
    case '!=':
    case '<>':
      return (c) => c !== 0;
    case '<':
      return (c) => c < 0;
    case '<=':
      return (c) => c <= 0;
    case '>':
      return (c) => c > 0;
    default:
      return (c) => c >= 0;
  }
}
