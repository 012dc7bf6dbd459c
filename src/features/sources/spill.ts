/**
 * Spill files: a source's record batches split into P partitions by a stable hash of the entity key
 * (`shardOfEntity`, the hash sharded backfills use), each partition an Arrow IPC file in a temporary
 * folder (under `os.tmpdir()` or `spillDir`), so a job larger than memory can run one partition at a
 * time. Every event of an entity lands in one partition, in source order; a hidden column
 * `SPILL_ROW` keeps each event's row number in the source. `close()` removes the folder (also after
 * an error or an abort while spilling).
 */
import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../../errors.js';
import { shardOfEntity } from '../../shard.js';
import { int64Exact, keyValue, readNumeric } from '../engine/columns.js';
import { tupleKey } from '../engine/keys.js';
import { takeBatch } from '../engine/take.js';
import type { LongOptions } from '../definitions/types.js';

/** The hidden column of spilled rows: the row's number in the source (float64). */
export const SPILL_ROW = '__strata_spill_row';

/** Rows a partition buffers before its batches are written. */
const FLUSH_ROWS = 65_536;
/** Most partitions a source is split into. */
export const MAX_PARTITIONS = 256;

/** Integer keys below this are memoised in a typed array (4 MiB) rather than a Map. */
const SMALL_KEYS = 1 << 20;

/** Partition (0..count-1) of each row of the join key vectors; rows with a null key go to 0. */
export class EntityPartitioner {
  readonly #memo = new Map<unknown, number>();
  #small: Int32Array | undefined;

  constructor(
    readonly joinKeys: readonly string[],
    readonly count: number,
  ) {}

  of(vectors: readonly A.Vector[]): Int32Array {
    const n = vectors[0]?.length ?? 0;
    const out = new Int32Array(n);
    if (this.count === 1) return out;
    if (this.#memo.size > 1 << 20) this.#memo.clear();
    const memo = this.#memo;
    const num = vectors.length === 1 && int64Exact(vectors[0]) ? readNumeric(vectors[0]) : undefined;
    if (num) {
      const { values, valid } = num;
      for (let i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        const x = values[i];
        if (x >= 0 && x < SMALL_KEYS && x === Math.floor(x)) {
          // small non-negative integers: a typed-array memo (0: not hashed yet, else partition + 1)
          const small = (this.#small ??= new Int32Array(SMALL_KEYS));
          let p = small[x] - 1;
          if (p < 0) small[x] = (p = this.#hash([x])) + 1;
          out[i] = p;
          continue;
        }
        let p = memo.get(x);
        if (p === undefined) memo.set(x, (p = this.#hash([x])));
        out[i] = p;
      }
      return out;
    }
    const key = new Array<unknown>(vectors.length);
    for (let i = 0; i < n; i++) {
      let missing = false;
      for (let k = 0; k < vectors.length; k++) {
        key[k] = keyValue(vectors[k].get(i));
        if (key[k] === null) missing = true;
      }
      if (missing) continue;
      const t = tupleKey(key);
      let p = memo.get(t);
      if (p === undefined) memo.set(t, (p = this.#hash(key)));
      out[i] = p;
    }
    return out;
  }

  #hash(key: readonly unknown[]): number {
    const rec: Record<string, unknown> = {};
    this.joinKeys.forEach((k, j) => (rec[k] = key[j]));
    try {
      return shardOfEntity(rec, this.joinKeys, this.count);
    } catch {
      return 0; // a key the online store cannot encode (NaN, objects): one partition for all of them
    }
  }
}

/** Rows of each partition, in row order: `order[start[p]..start[p+1])`. */
export function groupByPartition(part: Int32Array, count: number): { order: Int32Array; start: Int32Array } {
  const start = new Int32Array(count + 1);
  for (let i = 0; i < part.length; i++) start[part[i] + 1]++;
  for (let p = 0; p < count; p++) start[p + 1] += start[p];
  const fill = start.slice(0, count);
  const order = new Int32Array(part.length);
  for (let i = 0; i < part.length; i++) order[fill[part[i]]++] = i;
  return { order, start };
}

export interface SpillOptions extends LongOptions {
  /** Folder for the spill folder. Default `os.tmpdir()`. */
  readonly spillDir?: string;
  /** Names the job in errors and progress (e.g. `source trips`). */
  readonly what: string;
  /** Most bytes of rows buffered across all partitions before the largest is written. Default 16 MiB. */
  readonly bufferBytes?: number;
}

/** Bytes of a batch's buffers. */
function batchBytes(batch: A.RecordBatch): number {
  let n = 0;
  const add = (d: A.Data): void => {
    const values = d.values as ArrayBufferView | undefined;
    const offsets = d.valueOffsets as ArrayBufferView | undefined;
    n += (values?.byteLength ?? 0) + (d.nullBitmap?.byteLength ?? 0) + (offsets?.byteLength ?? 0);
    for (const c of d.children) add(c);
  };
  for (const c of batch.data.children) add(c);
  return n;
}

export class SpillFiles implements AsyncDisposable {
  #closed = false;
  readonly #empty: A.RecordBatch | null;

  private constructor(
    readonly dir: string,
    readonly count: number,
    /** Rows per partition. */
    readonly rows: readonly number[],
    empty: A.RecordBatch | null,
  ) {
    this.#empty = empty;
  }

  /** Splits `batches` by the entity key columns `joinKeys` into `count` partition files. */
  static async create(
    batches: AsyncIterable<A.RecordBatch>,
    joinKeys: readonly string[],
    count: number,
    options: SpillOptions,
  ): Promise<SpillFiles> {
    const dir = await mkdtemp(path.join(options.spillDir ?? tmpdir(), 'strata-spill-')).catch((err: unknown) => {
      throw new StrataError('IO', `cannot create a spill folder for ${options.what}`, {
        uri: options.spillDir ?? tmpdir(),
        hint: 'pass spillDir: a writable folder with room for the source',
        cause: err,
      });
    });
    const files: (FileHandle | null)[] = new Array<FileHandle | null>(count).fill(null);
    const buffered: A.RecordBatch[][] = Array.from({ length: count }, () => []);
    const bufferedRows = new Array<number>(count).fill(0);
    const bufferedBytes = new Array<number>(count).fill(0);
    const budget = options.bufferBytes ?? 16 << 20;
    let totalBytes = 0;
    const rows = new Array<number>(count).fill(0);
    const partitioner = new EntityPartitioner(joinKeys, count);
    let schema: A.Schema | null = null;
    let empty: A.RecordBatch | null = null;
    let seen = 0;
    const flush = async (p: number) => {
      if (buffered[p].length === 0) return;
      const bytes = A.tableToIPC(new A.Table(buffered[p].map((b) => new A.RecordBatch(schema!, b.data))), 'stream');
      buffered[p] = [];
      bufferedRows[p] = 0;
      totalBytes -= bufferedBytes[p];
      bufferedBytes[p] = 0;
      files[p] ??= await open(path.join(dir, `part-${p}.arrows`), 'w');
      await files[p].write(bytes);
    };
    try {
      for await (const batch of batches) {
        throwIfAborted(options.signal, `spilling ${options.what}`);
        const n = batch.numRows;
        if (n === 0) continue;
        const keyVectors = joinKeys.map((k) => {
          const v = batch.getChild(k);
          if (!v)
            throw new StrataError('INVALID_ARGUMENT', `${options.what} has no column ${k}`, {
              column: k,
              hint: `add a ${k} column (a join key of the view)`,
            });
          return v;
        });
        const part = partitioner.of(keyVectors);
        const { order, start } = groupByPartition(part, count);
        const columns = batch.schema.fields.map((f) => ({ name: f.name, vector: batch.getChild(f.name)! }));
        empty ??= takeBatch(columns, new Int32Array(0), [
          { name: SPILL_ROW, vector: A.makeVector(new Float64Array(0)) },
        ]);
        schema ??= empty.schema;
        for (let p = 0; p < count; p++) {
          const m = start[p + 1] - start[p];
          if (m === 0) continue;
          const idx = order.subarray(start[p], start[p + 1]);
          const rowNo = new Float64Array(m);
          for (let k = 0; k < m; k++) rowNo[k] = seen + idx[k];
          const taken = takeBatch(columns, idx, [{ name: SPILL_ROW, vector: A.makeVector(rowNo) }]);
          buffered[p].push(taken);
          bufferedRows[p] += m;
          const bytes = batchBytes(taken);
          bufferedBytes[p] += bytes;
          totalBytes += bytes;
          rows[p] += m;
          if (bufferedRows[p] >= FLUSH_ROWS) await flush(p);
        }
        while (totalBytes > budget) {
          let largest = 0;
          for (let p = 1; p < count; p++) if (bufferedBytes[p] > bufferedBytes[largest]) largest = p;
          await flush(largest);
        }
        seen += n;
        options.onProgress?.({ phase: 'spill', done: seen, unit: 'events' });
      }
      for (let p = 0; p < count; p++) await flush(p);
    } catch (err) {
      for (const f of files) await f?.close();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    for (const f of files) await f?.close();
    return new SpillFiles(dir, count, rows, empty);
  }

  /** The spilled columns (no rows). */
  schemaTable(): A.Table {
    return this.#empty ? new A.Table(this.#empty) : new A.Table();
  }

  /** Partition `p`'s rows as a table (with the `SPILL_ROW` column); an empty table when it has none. */
  async read(p: number): Promise<A.Table> {
    if (this.#closed) throw new StrataError('UNAVAILABLE', 'the spill files are closed');
    const empty = this.#empty;
    if (!empty) return new A.Table();
    const schema = empty.schema;
    if (this.rows[p] === 0) return new A.Table(empty);
    const buf = await readFile(path.join(this.dir, `part-${p}.arrows`));
    const batches: A.RecordBatch[] = [];
    for (const reader of A.RecordBatchReader.readAll(buf))
      for (const b of reader) batches.push(new A.RecordBatch(schema, b.data));
    return new A.Table(batches);
  }

  /** Removes the spill folder. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
