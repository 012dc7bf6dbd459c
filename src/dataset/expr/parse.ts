import type { ArithOp, CompareOp, Expr } from './ast.js';
import { type Token, syntaxError, tokenize } from './tokens.js';

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'BETWEEN', 'LIKE', 'TRUE', 'FALSE']);

/**
 * Parses a SQL-like filter expression into an AST: comparisons (`= != <> < <= > >=`), `AND`/`OR`/`NOT`,
 * parentheses, `IN (…)`, `BETWEEN … AND …`, `IS [NOT] NULL`, `LIKE` (`%`, `_`), `+ - * /`, string
 * literals in single quotes (`''` escapes one), numbers, `TRUE`/`FALSE`/`NULL`; column names bare or
 * in double quotes. Keywords are case-insensitive. INVALID_ARGUMENT naming the position otherwise.
 */
export function parseExpression(text: string): Expr {
  return new Parser(text).parse();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parse(): Expr {
    if (this.peek().type === 'end') throw syntaxError(this.text, 0, 'empty expression');
    const e = this.or();
    const t = this.peek();
    if (t.type !== 'end') throw syntaxError(this.text, t.pos, `unexpected ${describe(t)}`);
    return e;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isKeyword(word: string, t = this.peek()): boolean {
    return t.type === 'word' && !t.quoted && t.upper === word;
  }

  private acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i++;
    return true;
  }

  private expectKeyword(word: string): void {
    const t = this.peek();
    if (!this.acceptKeyword(word)) throw syntaxError(this.text, t.pos, `expected ${word}, found ${describe(t)}`);
  }

  private acceptOp(op: string): boolean {
    const t = this.peek();
    if (t.type !== 'op' || t.value !== op) return false;
    this.i++;
    return true;
  }

  private expectOp(op: string): void {
    const t = this.peek();
    if (!this.acceptOp(op)) throw syntaxError(this.text, t.pos, `expected "${op}", found ${describe(t)}`);
  }

  private or(): Expr {
    let left = this.and();
    for (let t = this.peek(); this.acceptKeyword('OR'); t = this.peek()) {
      left = { kind: 'logic', op: 'OR', left, right: this.and(), pos: t.pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    for (let t = this.peek(); this.acceptKeyword('AND'); t = this.peek()) {
      left = { kind: 'logic', op: 'AND', left, right: this.not(), pos: t.pos };
    }
    return left;
  }

  private not(): Expr {
    const t = this.peek();
    if (this.acceptKeyword('NOT')) return { kind: 'not', arg: this.not(), pos: t.pos };
    return this.predicate();
  }

  private predicate(): Expr {
    const arg = this.additive();
    const t = this.peek();
    if (t.type === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(t.value)) {
      this.i++;
      return { kind: 'compare', op: t.value as CompareOp, left: arg, right: this.additive(), pos: t.pos };
    }
    if (this.acceptKeyword('IS')) {
      const negated = this.acceptKeyword('NOT');
      this.expectKeyword('NULL');
      return { kind: 'isNull', arg, negated, pos: t.pos };
    }
    const negated =
      this.isKeyword('NOT') && ['IN', 'BETWEEN', 'LIKE'].some((k) => this.isKeyword(k, this.tokens[this.i + 1]));
    if (negated) this.i++;
    if (this.acceptKeyword('IN')) {
      this.expectOp('(');
      const list = [this.additive()];
      while (this.acceptOp(',')) list.push(this.additive());
      this.expectOp(')');
      return { kind: 'in', arg, list, negated, pos: t.pos };
    }
    if (this.acceptKeyword('BETWEEN')) {
      const lo = this.additive();
      this.expectKeyword('AND');
      return { kind: 'between', arg, lo, hi: this.additive(), negated, pos: t.pos };
    }
    if (this.acceptKeyword('LIKE')) return { kind: 'like', arg, pattern: this.additive(), negated, pos: t.pos };
    return arg;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (!(t.type === 'op' && (t.value === '+' || t.value === '-'))) return left;
      this.i++;
      left = { kind: 'arith', op: t.value as ArithOp, left, right: this.multiplicative(), pos: t.pos };
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (!(t.type === 'op' && (t.value === '*' || t.value === '/'))) return left;
      this.i++;
      left = { kind: 'arith', op: t.value as ArithOp, left, right: this.unary(), pos: t.pos };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.acceptOp('-')) {
      const arg = this.unary();
      if (arg.kind === 'literal' && typeof arg.value === 'number') return { ...arg, value: -arg.value, pos: t.pos };
      return { kind: 'neg', arg, pos: t.pos };
    }
    if (this.acceptOp('+')) return this.unary();
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case 'number':
      case 'string':
        this.i++;
        return { kind: 'literal', value: t.value, pos: t.pos };
      case 'word':
        this.i++;
        if (t.quoted) return { kind: 'column', name: t.value, pos: t.pos };
        if (t.upper === 'TRUE' || t.upper === 'FALSE')
          return { kind: 'literal', value: t.upper === 'TRUE', pos: t.pos };
        if (t.upper === 'NULL') return { kind: 'literal', value: null, pos: t.pos };
        if (KEYWORDS.has(t.upper)) throw syntaxError(this.text, t.pos, `unexpected keyword ${t.upper}`);
        return { kind: 'column', name: t.value, pos: t.pos };
      case 'op':
        if (t.value === '(') {
          this.i++;
          const e = this.or();
          this.expectOp(')');
          return e;
        }
        throw syntaxError(this.text, t.pos, `unexpected "${t.value}"`);
      default:
        throw syntaxError(this.text, t.pos, 'unexpected end of expression');
    }
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case 'end':
      return 'end of expression';
    case 'string':
      return `string '${t.value}'`;
    case 'op':
      return `"${t.value}"`;
    default:
      return String(t.value);
  }
}
