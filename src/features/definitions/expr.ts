/**
 * `where` filters: a small SQL subset, so the same text runs in DuckDB unchanged.
 *   expr := expr OR expr | expr AND expr | NOT expr | (expr) | operand op operand
 *         | operand IS [NOT] NULL | operand [NOT] IN (literal, …) | column
 *   op := = | == | != | <> | < | <= | > | >=;  literals: numbers, 'strings', true, false, null;
 *   columns: bare identifiers or "double quoted".
 * Three-valued logic as in SQL: a comparison with NULL is unknown, and only rows where the filter is
 * true pass.
 */
export type Operand = { readonly col: string } | { readonly lit: number | string | boolean | null };
export type Expr =
  | { readonly t: 'and' | 'or'; readonly a: Expr; readonly b: Expr }
  | { readonly t: 'not'; readonly a: Expr }
  | { readonly t: 'cmp'; readonly op: string; readonly l: Operand; readonly r: Operand }
  | { readonly t: 'null'; readonly x: Operand; readonly neg: boolean }
  | {
      readonly t: 'in';
      readonly x: Operand;
      readonly list: readonly (number | string | boolean | null)[];
      readonly neg: boolean;
    }
  | { readonly t: 'truthy'; readonly x: Operand };

interface Tok {
  readonly k: 'num' | 'str' | 'id' | 'qid' | 'op' | 'p' | 'end';
  readonly v: string;
  readonly pos: number;
}

export class ExprError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (
      /[0-9]/.test(c) ||
      (c === '-' && /[0-9.]/.test(src[i + 1] ?? '') && !/num|str|id|qid/.test(out.at(-1)?.k ?? ''))
    ) {
      i++;
      while (i < src.length && /[0-9.eE]/.test(src[i])) i++;
      out.push({ k: 'num', v: src.slice(start, i), pos: start });
    } else if (c === "'" || c === '"') {
      i++;
      let s = '';
      for (;;) {
        if (i >= src.length) throw new ExprError(`unterminated ${c === "'" ? 'string' : 'identifier'}`, start);
        if (src[i] === c && src[i + 1] === c) {
          s += c;
          i += 2;
        } else if (src[i] === c) {
          i++;
          break;
        } else s += src[i++];
      }
      out.push({ k: c === "'" ? 'str' : 'qid', v: s, pos: start });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_.]/.test(src[i])) i++;
      out.push({ k: 'id', v: src.slice(start, i), pos: start });
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ k: 'p', v: c, pos: i++ });
    } else {
      const two = src.slice(i, i + 2);
      const op = ['<=', '>=', '!=', '<>', '=='].includes(two) ? two : ['<', '>', '='].includes(c) ? c : null;
      if (!op) throw new ExprError(`unexpected character ${JSON.stringify(c)}`, i);
      out.push({ k: 'op', v: op, pos: i });
      i += op.length;
    }
  }
  out.push({ k: 'end', v: '', pos: src.length });
  return out;
}

/** Parses a filter; throws ExprError with the character position on bad input. */
export function parseExpr(src: string): Expr {
  const toks = lex(src);
  let p = 0;
  const peek = () => toks[p];
  const kw = (w: string) => peek().k === 'id' && peek().v.toUpperCase() === w;
  const expect = (v: string) => {
    if (peek().v !== v) throw new ExprError(`expected ${v}`, peek().pos);
    p++;
  };
  const literal = (): number | string | boolean | null => {
    const t = toks[p++];
    if (t.k === 'num') {
      const n = Number(t.v);
      if (!Number.isFinite(n)) throw new ExprError(`bad number ${t.v}`, t.pos);
      return n;
    }
    if (t.k === 'str') return t.v;
    if (t.k === 'id' && /^(true|false|null)$/i.test(t.v))
      return t.v.toLowerCase() === 'null' ? null : t.v.toLowerCase() === 'true';
    throw new ExprError(`expected a literal, got ${t.v || 'end of filter'}`, t.pos);
  };
  const operand = (): Operand => {
    const t = peek();
    if (t.k === 'qid' || (t.k === 'id' && !/^(true|false|null|and|or|not|is|in)$/i.test(t.v))) {
      p++;
      return { col: t.v };
    }
    return { lit: literal() };
  };
  const primary = (): Expr => {
    if (peek().v === '(' && peek().k === 'p') {
      p++;
      const e = or();
      expect(')');
      return e;
    }
    const x = operand();
    if (kw('IS')) {
      p++;
      const neg = kw('NOT');
      if (neg) p++;
      if (!kw('NULL')) throw new ExprError('expected NULL after IS', peek().pos);
      p++;
      return { t: 'null', x, neg };
    }
    let neg = false;
    if (kw('NOT') && toks[p + 1]?.k === 'id' && toks[p + 1].v.toUpperCase() === 'IN') {
      neg = true;
      p++;
    }
    if (kw('IN')) {
      p++;
      expect('(');
      const list = [literal()];
      while (peek().v === ',') {
        p++;
        list.push(literal());
      }
      expect(')');
      return { t: 'in', x, list, neg };
    }
    if (peek().k === 'op') {
      const op = toks[p++].v;
      return { t: 'cmp', op, l: x, r: operand() };
    }
    if ('col' in x) return { t: 'truthy', x };
    throw new ExprError('expected a comparison', peek().pos);
  };
  const not = (): Expr => {
    if (kw('NOT')) {
      p++;
      return { t: 'not', a: not() };
    }
    return primary();
  };
  const and = (): Expr => {
    let e = not();
    while (kw('AND')) {
      p++;
      e = { t: 'and', a: e, b: not() };
    }
    return e;
  };
  const or = (): Expr => {
    let e = and();
    while (kw('OR')) {
      p++;
      e = { t: 'or', a: e, b: and() };
    }
    return e;
  };
  const e = or();
  if (peek().k !== 'end') throw new ExprError(`unexpected ${peek().v}`, peek().pos);
  return e;
}

/** Column names an expression reads. */
export function exprColumns(e: Expr, out = new Set<string>()): Set<string> {
  const op = (o: Operand) => {
    if ('col' in o) out.add(o.col);
  };
  switch (e.t) {
    case 'and':
    case 'or':
      exprColumns(e.a, out);
      exprColumns(e.b, out);
      break;
    case 'not':
      exprColumns(e.a, out);
      break;
    case 'cmp':
      op(e.l);
      op(e.r);
      break;
    default:
      op(e.x);
  }
  return out;
}

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
    const l = o.lit;
    return () => l;
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
