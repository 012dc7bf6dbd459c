import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Dataset } from '../../dataset/dataset.js';
import { StrataError } from '../../errors.js';
import type { MediaRef } from './columns.js';
import type { DuckModule } from './duckdb.js';

/** What an async SQL function sees of the query: its tables, to read the media a reference names. */
export interface SqlFunctionContext {
  /** The dataset behind a table name of the query. */
  dataset(source: string): Dataset;
  /** The encoded bytes of the media cell a reference names (null for a null cell). */
  mediaBytes(ref: MediaRef): Promise<Uint8Array | null>;
  readonly signal?: AbortSignal;
}

/**
 * A SQL function whose values are computed asynchronously in JS (model runs, media decoding).
 * DuckDB calls scalar functions synchronously, so the query runs first with the values already
 * computed and records the arguments it is missing; these are computed (cached by `key`), and the
 * query runs again, until nothing is missing.
 */
export interface AsyncSqlFunction {
  readonly name: string;
  parameterTypes(duck: DuckModule): DuckDBType[];
  returnType(duck: DuckModule): DuckDBType;
  /** Identity of a value: same key, same value (it is computed once). */
  key(args: readonly unknown[], ctx: SqlFunctionContext): string;
  /** The values for a list of argument tuples, as DuckDB values of `returnType`. */
  compute(calls: readonly (readonly unknown[])[], ctx: SqlFunctionContext, duck: DuckModule): Promise<DuckDBValue[]>;
}

const registry = new Map<string, AsyncSqlFunction>();

/** Makes `fn` callable from `ds.sql` (src/embed registers `embed` this way; later registrations replace). */
export function registerSqlFunction(fn: AsyncSqlFunction): void {
  registry.set(fn.name.toLowerCase(), fn);
}

export function sqlFunctions(): AsyncSqlFunction[] {
  return [...registry.values()];
}

/** Built-in vector functions, as macros over DuckDB's list functions (native speed, no JS call). */
export async function registerMacros(con: DuckDBConnection): Promise<void> {
  await con.run('CREATE OR REPLACE TEMP MACRO cosine(a, b) AS list_cosine_similarity(a, b)');
  await con.run('CREATE OR REPLACE TEMP MACRO l2(a, b) AS list_distance(a, b)');
}

/** The values computed so far and the calls the last run missed, per function. */
export class AsyncValues {
  readonly values = new Map<string, DuckDBValue>();
  readonly missing = new Map<AsyncSqlFunction, Map<string, readonly unknown[]>>();

  /** Registers every async function on the connection, reading from and recording into this. */
  register(duck: DuckModule, con: DuckDBConnection, ctx: SqlFunctionContext, fns: readonly AsyncSqlFunction[]): void {
    for (const fn of fns) {
      con.registerScalarFunction(
        duck.DuckDBScalarFunction.create({
          name: fn.name,
          returnType: fn.returnType(duck),
          parameterTypes: fn.parameterTypes(duck),
          mainFunction: (info, input, output) => {
            const vectors = Array.from({ length: input.columnCount }, (_, k) => input.getColumnVector(k));
            for (let i = 0; i < input.rowCount; i++) {
              const args = vectors.map((v) => toJs(v.getItem(i)));
              if (args.some((a) => a === null)) {
                output.setItem(i, null);
                continue;
              }
              const key = `${fn.name}\u0000${fn.key(args, ctx)}`;
              const value = this.values.get(key);
              if (value === undefined) {
                let m = this.missing.get(fn);
                if (!m) this.missing.set(fn, (m = new Map<string, readonly unknown[]>()));
                m.set(key, args);
              }
              output.setItem(i, value ?? null);
            }
            output.flush();
          },
        }),
      );
    }
  }

  get hasMissing(): boolean {
    return this.missing.size > 0;
  }

  /** Computes the missing values; returns how many. */
  async fill(ctx: SqlFunctionContext, duck: DuckModule): Promise<number> {
    let n = 0;
    for (const [fn, calls] of this.missing) {
      const keys = [...calls.keys()];
      const values = await fn.compute([...calls.values()], ctx, duck);
      if (values.length !== keys.length) {
        throw new StrataError(
          'IO',
          `SQL function ${fn.name} returned ${values.length} values for ${keys.length} calls`,
        );
      }
      keys.forEach((k, j) => this.values.set(k, values[j]));
      n += keys.length;
    }
    this.missing.clear();
    return n;
  }
}

/** A DuckDB value as plain JS: structs as objects (the media reference), strings and numbers as is. */
function toJs(v: DuckDBValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if ('entries' in v && typeof v.entries === 'object' && v.entries !== null && !Array.isArray(v.entries)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v.entries as Record<string, DuckDBValue>)) out[k] = toJs(x);
    return out;
  }
  if ('items' in v && Array.isArray(v.items)) return (v.items as DuckDBValue[]).map(toJs);
  return v;
}
