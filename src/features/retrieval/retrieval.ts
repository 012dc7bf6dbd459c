/** The result of `getHistoricalFeatures`: computed once, on first use; then as Arrow, objects, Parquet or danfo. */
import type * as A from 'apache-arrow';
import { cellValue } from '../engine/columns.js';
import { writeParquetFile } from '../sources/parquet.js';

/** Plain JS value of an Arrow cell: int64 → number (when safe), lists → arrays. */
export function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v && typeof v === 'object' && typeof (v as { toArray?: unknown }).toArray === 'function') {
    return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), plainValue);
  }
  return v;
}

export function tableToRecords(table: A.Table): Record<string, unknown>[] {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n)!);
  const out = new Array<Record<string, unknown>>(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const o: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) o[names[j]] = plainValue(cellValue(cols[j], i));
    out[i] = o;
  }
  return out;
}

export class RetrievalJob {
  #compute: () => Promise<A.Table>;
  #result: Promise<A.Table> | undefined;

  constructor(compute: () => Promise<A.Table>) {
    this.#compute = compute;
  }

  /** The entity rows (all their columns, same order) with one column per requested feature. */
  toArrow(): Promise<A.Table> {
    this.#result ??= this.#compute();
    return this.#result;
  }

  /** Rows as plain objects (int64 as number when safe, timestamps as integer epoch ms, lists as arrays). */
  async toArray(): Promise<Record<string, unknown>[]> {
    return tableToRecords(await this.toArrow());
  }

  async toParquet(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await writeParquetFile(await this.toArrow(), path, options.signal);
  }

  /** A danfo DataFrame, built with the constructor you pass (keeps danfo out of this module's imports). */
  async toDanfo<T>(DataFrame: new (data: Record<string, unknown>[]) => T): Promise<T> {
    return new DataFrame(await this.toArray());
  }
}
