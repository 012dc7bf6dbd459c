/**
 * An in-memory DuckDB connection for one test file (the oracle the engine's answers are checked
 * against), opened before the file's tests and closed after them; with `scratch`, also a temporary
 * folder (for Parquet exports) removed after them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';

export interface DuckDBOracle {
  /** The connection (valid inside tests). */
  readonly con: DuckDBConnection;
  /** The temporary folder (only with `scratch`). */
  readonly dir: string;
}

export function useDuckDB(options: { readonly threads?: number; readonly scratch?: string } = {}): DuckDBOracle {
  let db: DuckDBInstance | undefined;
  let con: DuckDBConnection | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    if (options.scratch) dir = await mkdtemp(path.join(tmpdir(), options.scratch));
    db = await DuckDBInstance.create(':memory:', options.threads ? { threads: String(options.threads) } : {});
    con = await db.connect();
  });
  afterAll(async () => {
    con?.closeSync();
    db?.closeSync();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get con() {
      if (!con) throw new Error('the DuckDB oracle is open only inside tests');
      return con;
    },
    get dir() {
      if (!dir) throw new Error('useDuckDB({ scratch }) makes a folder; this file asked for none');
      return dir;
    },
  };
}
