/**
 * Simple conjuncts of a query's WHERE clause, in a plain form a scan can use to skip chunks
 * (pushdown). Extracted from DuckDB's own parse tree (`json_serialize_sql`), so quoting, casing and
 * operator spelling are DuckDB's. Only top-level AND terms of the form `col op literal`,
 * `literal op col`, `col IN (literals)`, `col BETWEEN literal AND literal`, `col IS [NOT] NULL` are
 * returned; every other term is left out (the pushed-down set is a necessary condition, and DuckDB
 * still applies the whole WHERE clause, so leaving terms out never changes an answer).
 */
export type Literal = string | number | boolean | bigint | null;

export type Conjunct =
  | { readonly column: string; readonly op: '=' | '!=' | '<' | '<=' | '>' | '>='; readonly value: Literal }
  | { readonly column: string; readonly op: 'in'; readonly values: readonly Literal[] }
  | { readonly column: string; readonly op: 'between'; readonly low: Literal; readonly high: Literal }
  | { readonly column: string; readonly op: 'is null' | 'is not null' };

/** The pushable conjuncts per table name of a single-table SELECT (the table: `from_table.table_name`). */
export interface WhereSummary {
  /** The table of the FROM clause when it is a single base table, else null (nothing pushed). */
  readonly table: string | null;
  readonly conjuncts: readonly Conjunct[];
}

type Node = Record<string, unknown>;

const COMPARE: Record<string, '=' | '!=' | '<' | '<=' | '>' | '>='> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '!=',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};
const FLIP = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;

/** Reads `json_serialize_sql(query)`'s output (the JSON text) into a WhereSummary. */
export function whereConjuncts(serialized: string): WhereSummary {
  const tree = JSON.parse(serialized) as Node;
  const statements = tree.statements as Node[] | undefined;
  if (tree.error || !statements || statements.length !== 1) return { table: null, conjuncts: [] };
  const node = statements[0].node as Node;
  if (node.type !== 'SELECT_NODE') return { table: null, conjuncts: [] };
  const from = node.from_table as Node | null;
  if (!from || from.type !== 'BASE_TABLE') return { table: null, conjuncts: [] };
  const out: Conjunct[] = [];
  if (node.where_clause) collect(node.where_clause as Node, out);
  return { table: from.table_name as string, conjuncts: out };
}

function collect(e: Node, out: Conjunct[]): void {
  if (e.type === 'CONJUNCTION_AND') {
    for (const c of e.children as Node[]) collect(c, out);
    return;
  }
  const c = conjunct(e);
  if (c) out.push(c);
}

function conjunct(e: Node): Conjunct | null {
  const op = COMPARE[e.type as string];
  if (op && e.class === 'COMPARISON') {
    const l = column(e.left as Node);
    const r = constant(e.right as Node);
    if (l !== null && r !== undefined) return { column: l, op, value: r };
    const l2 = constant(e.left as Node);
    const r2 = column(e.right as Node);
    if (r2 !== null && l2 !== undefined) return { column: r2, op: FLIP[op], value: l2 };
    return null;
  }
  if (e.type === 'COMPARE_IN') {
    const [first, ...rest] = e.children as Node[];
    const col = column(first);
    const values = rest.map(constant);
    if (col === null || values.some((v) => v === undefined)) return null;
    return { column: col, op: 'in', values: values as Literal[] };
  }
  if (e.type === 'COMPARE_BETWEEN') {
    const col = column(e.input as Node);
    const low = constant(e.lower as Node);
    const high = constant(e.upper as Node);
    if (col === null || low === undefined || high === undefined) return null;
    return { column: col, op: 'between', low, high };
  }
  if (e.type === 'OPERATOR_IS_NULL' || e.type === 'OPERATOR_IS_NOT_NULL') {
    const col = column((e.children as Node[])[0]);
    if (col === null) return null;
    return { column: col, op: e.type === 'OPERATOR_IS_NULL' ? 'is null' : 'is not null' };
  }
  return null;
}

/** The column a COLUMN_REF names (its last part: `t.col` → col), else null. */
function column(e: Node): string | null {
  if (e.class !== 'COLUMN_REF') return null;
  const names = e.column_names as string[];
  return names[names.length - 1];
}

/** The value of a constant (a cast of a constant included), else undefined. */
function constant(e: Node): Literal | undefined {
  if (e.class === 'CAST') return constant(e.child as Node);
  if (e.class !== 'CONSTANT') return undefined;
  const v = e.value as { is_null: boolean; value: unknown; type: { id: string; type_info: { scale?: number } | null } };
  if (v.is_null) return null;
  const x = v.value;
  if (v.type.id === 'DECIMAL') return typeof x === 'number' ? x / 10 ** (v.type.type_info?.scale ?? 0) : undefined;
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return x;
  return undefined;
}
