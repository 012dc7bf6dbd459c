/**
 * Evaluation of value expressions (expr.ts `Operand`): arithmetic with SQL null propagation, `now`
 * (the request time: `nowMs` online, the entity row's timestamp in training sets) and the vector and
 * scalar functions below. One compiled function serves both paths, so training and serving agree.
 */
import { ExprError, type Operand } from './expr.js';

/** A row's inputs by name; `nowMs` is what `now` evaluates to. */
export type ValueFn = (get: (name: string) => unknown, nowMs: number) => unknown;

type Vec = ArrayLike<number>;

function num(v: unknown, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  throw new ExprError(`${what} needs a number, got ${typeof v === 'string' ? 'a string' : 'a vector'}`, 0);
}

/** A vector value (typed array, array, or an Arrow list cell) as an array-like of numbers. */
export function vectorOf(v: unknown, what: string): Vec | null {
  if (v === null || v === undefined) return null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array)) return v as unknown as Vec;
  if (Array.isArray(v)) {
    for (const x of v) if (typeof x !== 'number') throw new ExprError(`${what} needs a vector of numbers`, 0);
    return v as number[];
  }
  const arrow = v as { toArray?: () => unknown };
  if (typeof arrow.toArray === 'function') return vectorOf(arrow.toArray(), what);
  throw new ExprError(`${what} needs a vector, got ${typeof v}`, 0);
}

function pair(name: string, a: unknown, b: unknown): [Vec, Vec] | null {
  const x = vectorOf(a, name);
  const y = vectorOf(b, name);
  if (x === null || y === null) return null;
  if (x.length !== y.length) throw new ExprError(`${name}: vectors of width ${x.length} and ${y.length}`, 0);
  return [x, y];
}

function dot(x: Vec, y: Vec): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

type Fn = (args: readonly unknown[]) => unknown;
const unary =
  (name: string, f: (x: number) => number): Fn =>
  ([a]) => {
    const x = num(a, name);
    return x === null ? null : f(x);
  };

/** Built-in functions: name → [arity (-1: one or more), implementation]. */
const FUNCTIONS: Readonly<Record<string, readonly [number, Fn]>> = {
  cosine: [
    2,
    ([a, b]) => {
      const p = pair('cosine', a, b);
      if (!p) return null;
      const [x, y] = p;
      // one pass, three sums (each summed in the same order as three separate dot products)
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (let i = 0; i < x.length; i++) {
        const u = x[i];
        const v = y[i];
        xy += u * v;
        xx += u * u;
        yy += v * v;
      }
      const d = Math.sqrt(xx) * Math.sqrt(yy);
      return d === 0 ? null : xy / d;
    },
  ],
  dot: [
    2,
    ([a, b]) => {
      const p = pair('dot', a, b);
      return p ? dot(p[0], p[1]) : null;
    },
  ],
  l2: [
    2,
    ([a, b]) => {
      const p = pair('l2', a, b);
      if (!p) return null;
      let s = 0;
      for (let i = 0; i < p[0].length; i++) s += (p[0][i] - p[1][i]) ** 2;
      return Math.sqrt(s);
    },
  ],
  norm: [
    1,
    ([a]) => {
      const x = vectorOf(a, 'norm');
      return x === null ? null : Math.sqrt(dot(x, x));
    },
  ],
  abs: [1, unary('abs', Math.abs)],
  sqrt: [1, unary('sqrt', Math.sqrt)],
  ln: [1, unary('ln', Math.log)],
  exp: [1, unary('exp', Math.exp)],
  coalesce: [-1, (args) => args.find((a) => a !== null && a !== undefined) ?? null],
};

/** Names of the built-in functions (plus `now`). */
export const VALUE_FUNCTIONS: readonly string[] = ['now', ...Object.keys(FUNCTIONS)];

/** Compiles a value expression; unknown functions and wrong arities throw ExprError here, not per row. */
export function compileValue(o: Operand): ValueFn {
  if ('col' in o) {
    const c = o.col;
    return (g) => {
      const v = g(c);
      return v === undefined ? null : v;
    };
  }
  if ('lit' in o) {
    const l = o.lit;
    return () => l;
  }
  if ('negate' in o) {
    const a = compileValue(o.negate);
    return (g, now) => {
      const x = num(a(g, now), 'unary -');
      return x === null ? null : -x;
    };
  }
  if ('arith' in o) {
    const l = compileValue(o.l);
    const r = compileValue(o.r);
    const op = o.arith;
    return (g, now) => {
      const x = num(l(g, now), op);
      const y = num(r(g, now), op);
      if (x === null || y === null) return null;
      if (op === '+') return x + y;
      if (op === '-') return x - y;
      if (op === '*') return x * y;
      return y === 0 ? null : x / y;
    };
  }
  if (o.call === 'now') {
    if (o.args.length) throw new ExprError('now takes no arguments', o.pos);
    return (_g, now) => now;
  }
  const fn = FUNCTIONS[o.call];
  if (!fn) throw new ExprError(`unknown function ${o.call} (functions: ${VALUE_FUNCTIONS.join(', ')})`, o.pos);
  const [arity, f] = fn;
  if (arity >= 0 ? o.args.length !== arity : o.args.length === 0) {
    throw new ExprError(`${o.call} takes ${arity >= 0 ? arity : 'one or more'} argument(s)`, o.pos);
  }
  const args = o.args.map(compileValue);
  if (args.length === 2) {
    const [a, b] = args;
    return (g, now) => f([a(g, now), b(g, now)]);
  }
  return (g, now) => f(args.map((a) => a(g, now)));
}
