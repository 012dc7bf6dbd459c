/** Nodes of a filter expression (`label = 'cat' AND score > 0.5`); `pos` is the 0-based character offset. */
export type Expr =
  | { readonly kind: 'column'; readonly name: string; readonly pos: number }
  | { readonly kind: 'literal'; readonly value: number | string | boolean | null; readonly pos: number }
  | { readonly kind: 'not'; readonly arg: Expr; readonly pos: number }
  | { readonly kind: 'neg'; readonly arg: Expr; readonly pos: number }
  | {
      readonly kind: 'logic';
      readonly op: 'AND' | 'OR';
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: number;
    }
  | {
      readonly kind: 'compare';
      readonly op: CompareOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: number;
    }
  | { readonly kind: 'arith'; readonly op: ArithOp; readonly left: Expr; readonly right: Expr; readonly pos: number }
  | {
      readonly kind: 'in';
      readonly arg: Expr;
      readonly list: readonly Expr[];
      readonly negated: boolean;
      readonly pos: number;
    }
  | {
      readonly kind: 'between';
      readonly arg: Expr;
      readonly lo: Expr;
      readonly hi: Expr;
      readonly negated: boolean;
      readonly pos: number;
    }
  | { readonly kind: 'isNull'; readonly arg: Expr; readonly negated: boolean; readonly pos: number }
  | {
      readonly kind: 'like';
      readonly arg: Expr;
      readonly pattern: Expr;
      readonly negated: boolean;
      readonly pos: number;
    };

export const COMPARE_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export const ARITH_OPS = ['+', '-', '*', '/'] as const;
export type ArithOp = (typeof ARITH_OPS)[number];

/** Column names an expression reads, in first-use order. */
export function columnsOf(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'column':
      if (!out.includes(e.name)) out.push(e.name);
      break;
    case 'literal':
      break;
    case 'not':
    case 'neg':
    case 'isNull':
      columnsOf(e.arg, out);
      break;
    case 'logic':
    case 'compare':
    case 'arith':
      columnsOf(e.left, out);
      columnsOf(e.right, out);
      break;
    case 'in':
      columnsOf(e.arg, out);
      for (const x of e.list) columnsOf(x, out);
      break;
    case 'between':
      columnsOf(e.arg, out);
      columnsOf(e.lo, out);
      columnsOf(e.hi, out);
      break;
    case 'like':
      columnsOf(e.arg, out);
      columnsOf(e.pattern, out);
      break;
  }
  return out;
}
