import type * as DuckDB from '@duckdb/node-api';
import type Bindings from '@duckdb/node-bindings';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { StrataError } from '../../errors.js';

/** The @duckdb/node-api module, imported on first use (users who never call `sql` never load it). */
export type DuckModule = typeof DuckDB;

/**
 * @duckdb/node-bindings (node-api's own native layer, installed with it at the same version): the
 * loader copies whole typed arrays into a chunk's vectors with it (`copy_data_to_vector`).
 */
export type DuckBindings = typeof Bindings;

let bindingsPromise: Promise<DuckBindings> | undefined;

export function duckBindings(): Promise<DuckBindings> {
  bindingsPromise ??= import('@duckdb/node-bindings').then((m) => m.default);
  return bindingsPromise;
}

let modulePromise: Promise<DuckModule> | undefined;
let instancePromise: Promise<DuckDBInstance> | undefined;

export function duckModule(): Promise<DuckModule> {
  modulePromise ??= import('@duckdb/node-api').catch((cause: unknown) => {
    modulePromise = undefined;
    throw new StrataError('UNAVAILABLE', 'ds.sql needs @duckdb/node-api, which did not load', {
      cause,
      hint: 'npm install @duckdb/node-api (a dependency of strata; check the install for native build errors)',
    });
  });
  return modulePromise;
}

/** The process-wide in-memory DuckDB that holds the loaded (cached) tables. */
export async function duckInstance(): Promise<DuckDBInstance> {
  const duck = await duckModule();
  instancePromise ??= duck.DuckDBInstance.create(':memory:');
  return instancePromise;
}

/** A new connection of the shared instance (temp views and macros of one query live on it). */
export async function duckConnection(): Promise<DuckDBConnection> {
  return (await duckInstance()).connect();
}

/** A DuckDB identifier, double-quoted. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A DuckDB string literal. */
export function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
