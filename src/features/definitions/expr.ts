/**
 * The features' one expression language: `where` filters (a small SQL subset, so the same text runs
 * in DuckDB unchanged) and the value expressions of on-demand views (`cosine(user_emb, item_emb)`,
 * `now - last_seen`).
 *   expr := expr OR expr | expr AND expr | NOT expr | (expr) | operand op operand
 *         | operand IS [NOT] NULL | operand [NOT] IN (literal, …) | column
 *   op := = | == | != | <> | < | <= | > | >=;  literals: numbers, 'strings', true, false, null;
 *   columns: bare identifiers or "double quoted".
 *   operand := operand (+|-|*|/) operand | -operand | (operand) | name(operand, …) | now | column | literal
 * Three-valued logic as in SQL: a comparison with NULL is unknown, and only rows where the filter is
 * true pass. Functions and `now` are evaluated by expr-value.ts (on-demand views only).
 */
export type Operand =
  | { readonly col: string }
  | { readonly lit: number | string | boolean | null }
  | { readonly call: string; readonly args: readonly Operand[]; readonly pos: number }
  | { readonly arith: '+' | '-' | '*' | '/'; readonly l: Operand; readonly r: Operand }
  | { readonly negate: Operand };
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
  readonly k: 'num' | 'str' | 'id' | 'qid' | 'op' | 'ar' | 'p' | 'end';
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
      (c === '-' &&
        /[0-9.]/.test(src[i + 1] ?? '') &&
        !/num|str|id|qid/.test(out.at(-1)?.k ?? '') &&
        out.at(-1)?.v !== ')')
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
    } else if (c === '+' || c === '-' || c === '*' || c === '/') {
      out.push({ k: 'ar', v: c, pos: i++ });
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

function makeParser(src: string) {
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
  const atom = (): Operand => {
    const t = peek();
    if (t.k === 'p' && t.v === '(') {
      p++;
      const e = operand();
      expect(')');
      return e;
    }
    if (t.k === 'ar' && t.v === '-') {
      p++;
      return { negate: atom() };
    }
    if (t.k === 'id' && /^now$/i.test(t.v) && !(toks[p + 1]?.k === 'p' && toks[p + 1].v === '(')) {
      p++;
      return { call: 'now', args: [], pos: t.pos };
    }
    if (t.k === 'id' && toks[p + 1]?.k === 'p' && toks[p + 1].v === '(') {
      p += 2;
      const args: Operand[] = [];
      if (peek().v !== ')') {
        args.push(operand());
        while (peek().v === ',' && peek().k === 'p') {
          p++;
          args.push(operand());
        }
      }
      expect(')');
      return { call: t.v.toLowerCase(), args, pos: t.pos };
    }
    if (t.k === 'qid' || (t.k === 'id' && !/^(true|false|null|and|or|not|is|in)$/i.test(t.v))) {
      p++;
      return { col: t.v };
    }
    return { lit: literal() };
  };
  const term = (): Operand => {
    let e = atom();
    while (peek().k === 'ar' && (peek().v === '*' || peek().v === '/')) {
      const op = toks[p++].v as '*' | '/';
      e = { arith: op, l: e, r: atom() };
    }
    return e;
  };
  const operand = (): Operand => {
    let e = term();
    while (peek().k === 'ar' && (peek().v === '+' || peek().v === '-')) {
      const op = toks[p++].v as '+' | '-';
      e = { arith: op, l: e, r: term() };
    }
    return e;
  };
  const primary = (): Expr => {
    if (peek().v === '(' && peek().k === 'p') {
      // a parenthesized condition, unless it turns out to be a value: `(a + b) > 3`
      const at = p;
      try {
        p++;
        const e = or();
        expect(')');
        if (peek().k !== 'op' && peek().k !== 'ar' && !kw('IS') && !kw('IN') && !kw('NOT')) return e;
      } catch (err) {
        if (!(err instanceof ExprError)) throw err;
      }
      p = at;
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
    if (!('lit' in x)) return { t: 'truthy', x };
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
  return { parse: or, operand, done: () => peek() };
}

/** Parses a filter; throws ExprError with the character position on bad input. */
export function parseExpr(src: string): Expr {
  const parser = makeParser(src);
  const e = parser.parse();
  const end = parser.done();
  if (end.k !== 'end') throw new ExprError(`unexpected ${end.v}`, end.pos);
  return e;
}

/** Parses a value expression (an on-demand feature): `cosine(a, b)`, `now - last_seen`, `x * 2`. */
export function parseValueExpr(src: string): Operand {
  const parser = makeParser(src);
  const e = parser.operand();
  const end = parser.done();
  if (end.k !== 'end') throw new ExprError(`unexpected ${end.v}`, end.pos);
  return e;
}

/** Column names an expression reads. */
export function exprColumns(e: Expr, out = new Set<string>()): Set<string> {
  const op = (o: Operand) => operandColumns(o, out);
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

/** Function names a filter calls (filters allow none: they must run in DuckDB unchanged). */
export function exprCalls(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.t) {
    case 'and':
    case 'or':
      exprCalls(e.a, out);
      exprCalls(e.b, out);
      break;
    case 'not':
      exprCalls(e.a, out);
      break;
    case 'cmp':
      operandCalls(e.l, out);
      operandCalls(e.r, out);
      break;
    default:
      operandCalls(e.x, out);
  }
  return out;
}

/** Column names a value expression reads. */
export function operandColumns(o: Operand, out = new Set<string>()): Set<string> {
  if ('col' in o) out.add(o.col);
  else if ('call' in o) for (const a of o.args) operandColumns(a, out);
  else if ('arith' in o) {
    operandColumns(o.l, out);
    operandColumns(o.r, out);
  } else if ('negate' in o) operandColumns(o.negate, out);
  return out;
}

/** Function names a value expression calls (`now` included). */
export function operandCalls(o: Operand, out = new Set<string>()): Set<string> {
  if ('call' in o) {
    out.add(o.call);
    for (const a of o.args) operandCalls(a, out);
  } else if ('arith' in o) {
    operandCalls(o.l, out);
    operandCalls(o.r, out);
  } else if ('negate' in o) operandCalls(o.negate, out);
  return out;
}
