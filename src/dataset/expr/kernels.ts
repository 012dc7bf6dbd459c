import { compareStrings } from '../../format/chunk-stats.js';
import type { CompareOp } from './ast.js';
import type { ExprType } from './check.js';

/** Tri-state truth values: a condition's result per row. */
export const FALSE = 0;
export const TRUE = 1;
export const NULL = 2;

export type Value = number | string | null;

export function and3(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    out[i] = x === FALSE || y === FALSE ? FALSE : x === NULL || y === NULL ? NULL : TRUE;
  }
  return out;
}

export function or3(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    out[i] = x === TRUE || y === TRUE ? TRUE : x === NULL || y === NULL ? NULL : FALSE;
  }
  return out;
}

/** `column op constant` over numbers or strings without a call per row (the common filter shape). */
export function compareConst(v: ArrayLike<Value>, op: CompareOp, t: ExprType, c: number | string): Uint8Array {
  const out = new Uint8Array(v.length);
  if (t === 'string' && (op === '=' || op === '!=')) {
    const eq = op === '=' ? TRUE : FALSE;
    const ne = op === '=' ? FALSE : TRUE;
    for (let i = 0; i < v.length; i++) {
      const a = v[i];
      out[i] = a === null ? NULL : a === c ? eq : ne;
    }
    return out;
  }
  if (t === 'number' && !Number.isNaN(c)) {
    const k = c as number;
    const vs = v as ArrayLike<number | null>;
    // NaN (a !== a) is above every number, so it passes > and >= and fails = < <=.
    for (let i = 0; i < vs.length; i++) {
      const a = vs[i];
      if (a === null) {
        out[i] = NULL;
        continue;
      }
      let ok: boolean;
      switch (op) {
        case '=':
          ok = a === k;
          break;
        case '!=':
          ok = a !== k;
          break;
        case '<':
          ok = a < k;
          break;
        case '<=':
          ok = a <= k;
          break;
        case '>':
          ok = a > k || a !== a;
          break;
        default:
          ok = a >= k || a !== a;
      }
      out[i] = ok ? TRUE : FALSE;
    }
    return out;
  }
  const test = comparer(op, t);
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    out[i] = a === null ? NULL : test(a, c) ? TRUE : FALSE;
  }
  return out;
}

/** `%` any run, `_` one character; everything else literal; the whole string must match. */
export function likeRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '%') src += '[\\s\\S]*';
    else if (ch === '_') src += '[\\s\\S]';
    else src += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'u');
}

/** DuckDB's order: NaN above every number and equal to itself. */
export function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  return na === nb ? 0 : na ? 1 : -1;
}

export function comparer(op: CompareOp, t: ExprType): (a: number | string, b: number | string) => boolean {
  const cmp =
    t === 'string'
      ? (a: number | string, b: number | string) => compareStrings(a as string, b as string)
      : (a: number | string, b: number | string) => compareNumbers(a as number, b as number);
  switch (op) {
    case '=':
      return t === 'string' ? (a, b) => a === b : (a, b) => a === b || cmp(a, b) === 0;
    case '!=':
      return t === 'string' ? (a, b) => a !== b : (a, b) => a !== b && cmp(a, b) !== 0;
    case '<':
      return (a, b) => cmp(a, b) < 0;
    case '<=':
      return (a, b) => cmp(a, b) <= 0;
    case '>':
      return (a, b) => cmp(a, b) > 0;
    case '>=':
      return (a, b) => cmp(a, b) >= 0;
  }
}
