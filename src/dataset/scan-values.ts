/** `scanValues`: a column's decoded values a chunk at a time, as typed arrays where the column allows. */
import { type DecodedChunk, isNull, sampleAt } from '../format/chunk.js';
import { DTYPE_BYTES, type TypedArray, typedView } from '../format/dtype.js';
import type { RunBuilder } from '../format/version-scan.js';
import { throwIfAborted } from '../errors.js';
import type { DatasetCore } from './core.js';
import { codecFor } from './htypes/index.js';
import type { ValueRun } from './read.js';

type Values = Pick<ValueRun, 'values' | 'nulls'>;

const utf8 = new TextDecoder();

/** Decoded values of `column` at version positions [start, end), about one chunk per run. */
export async function* scanValues(
  core: DatasetCore,
  column: string,
  options: { start?: number; end?: number; signal?: AbortSignal; prefetchChunks?: number },
): AsyncGenerator<ValueRun> {
  const c = core.columnManifest(column);
  const codec = codecFor(c.htype, column);
  const decodeAt = (chunk: DecodedChunk, i: number, row: number): unknown =>
    codec.decode(sampleAt(chunk, i), { column, row, dtype: c.dtype, meta: c.meta });
  const width = DTYPE_BYTES[c.dtype];
  const scalar = c.htype === 'generic' && c.sampleCompression === 'none' && width > 0;
  const text = c.htype === 'text' && c.sampleCompression === 'none';
  let at = 0;
  const build: RunBuilder<Values> = {
    chunk(chunk, from, count) {
      const h = chunk.header;
      if (scalar && h.ndim === 0 && h.fixedBytes === width) {
        const values = typedView(c.dtype, chunk.payload.subarray(from * width, (from + count) * width)).slice();
        return { values, nulls: h.nulls ? nullFlags(chunk, from, count) : undefined };
      }
      if (text) return { values: decodeText(chunk, from, count) };
      const values = new Array<unknown>(count);
      for (let j = 0; j < count; j++) values[j] = decodeAt(chunk, from + j, at + j);
      return { values };
    },
    nulls: (count) => ({ values: new Array<null>(count).fill(null) }),
    keep(run, ranges) {
      if (Array.isArray(run.values)) return { values: ranges.flatMap(([s, e]) => run.values.slice(s, e) as unknown[]) };
      const typed = run.values as TypedArray;
      const n = ranges.reduce((k, [s, e]) => k + e - s, 0);
      const values = new (typed.constructor as new (n: number) => TypedArray)(n);
      const nulls = run.nulls ? new Uint8Array(n) : undefined;
      let o = 0;
      for (const [s, e] of ranges) {
        (values as Float64Array).set(typed.subarray(s, e) as Float64Array, o);
        nulls?.set(run.nulls!.subarray(s, e), o);
        o += e - s;
      }
      return { values, nulls };
    },
  };
  const reader = core.reader(column);
  const start = options.start ?? 0;
  const end = options.end ?? core.manifest.length;
  at = start;
  for await (const r of reader.scanRuns(start, end, options, build)) {
    throwIfAborted(options.signal, 'read');
    yield { start: r.start, length: r.rows, values: r.run.values, nulls: r.run.nulls };
    at = r.start + r.rows;
  }
}

function nullFlags(chunk: DecodedChunk, from: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let j = 0; j < count; j++) if (isNull(chunk.header, from + j)) out[j] = 1;
  return out;
}

/** Rows [from, from + count) of a text chunk: one decode of the range when it is ASCII (then bytes are characters). */
function decodeText(chunk: DecodedChunk, from: number, count: number): (string | null)[] {
  const h = chunk.header;
  const off = (i: number): number => (h.fixedBytes !== undefined ? i * h.fixedBytes : h.offsets![i]);
  const s0 = off(from);
  const all = utf8.decode(chunk.payload.subarray(s0, off(from + count)));
  const ascii = all.length === off(from + count) - s0;
  const out = new Array<string | null>(count);
  for (let j = 0; j < count; j++) {
    const i = from + j;
    if (isNull(h, i)) out[j] = null;
    else if (ascii) out[j] = all.slice(off(i) - s0, off(i + 1) - s0);
    else out[j] = utf8.decode(chunk.payload.subarray(off(i), off(i + 1)));
  }
  return out;
}
