import type { DuckDBConnection } from '@duckdb/node-api';
import { StrataError } from '../../errors.js';
import { literal } from './duckdb.js';

/** What `sql` needs to know of a query before running it, from DuckDB's parse tree. */
export interface ParsedQuery {
  /** `json_serialize_sql` output (see where.ts). */
  readonly serialized: string;
  /** Names (lower case) that appear in column references, every part (`t.image.width` → t, image, width). */
  readonly names: ReadonlySet<string>;
  /** A `*` (or `t.*`, COLUMNS(*)) appears: every column of the tables is needed. */
  readonly star: boolean;
  /** Function names (lower case) called by the query. */
  readonly functions: ReadonlySet<string>;
}

type Node = Record<string, unknown>;

/** Parses one SELECT statement (refuses others: INVALID_ARGUMENT with DuckDB's message). */
export async function parseQuery(con: DuckDBConnection, query: string): Promise<ParsedQuery> {
  const reader = await con.runAndReadAll(`SELECT json_serialize_sql(${literal(query)})`);
  const serialized = reader.getRowsJS()[0][0] as string;
  const tree = JSON.parse(serialized) as Node;
  if (tree.error) {
    throw new StrataError('INVALID_ARGUMENT', `SQL query does not parse as a SELECT: ${String(tree.error_message)}`, {
      field: 'query',
      hint: 'ds.sql runs one SELECT statement over table ds (and options.tables)',
    });
  }
  if ((tree.statements as unknown[]).length !== 1) {
    throw new StrataError('INVALID_ARGUMENT', 'ds.sql runs exactly one statement', {
      field: 'query',
      hint: 'call sql once per SELECT',
    });
  }
  const names = new Set<string>();
  const functions = new Set<string>();
  let star = false;
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (x === null || typeof x !== 'object') return;
    const n = x as Node;
    if (n.class === 'COLUMN_REF') for (const p of n.column_names as string[]) names.add(p.toLowerCase());
    if (Array.isArray(n.using_columns)) for (const p of n.using_columns as string[]) names.add(p.toLowerCase());
    if (n.class === 'STAR') star = true;
    if (n.class === 'FUNCTION' && typeof n.function_name === 'string') functions.add(n.function_name.toLowerCase());
    for (const v of Object.values(n)) walk(v);
  };
  walk(tree.statements);
  return { serialized, names, star, functions };
}
