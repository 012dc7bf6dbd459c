import type { DuckDBValue } from '@duckdb/node-api';
import { StrataError } from '../errors.js';
import { type MediaRef, mediaRefType } from '../interop/sql/columns.js';
import { type AsyncSqlFunction, registerSqlFunction } from '../interop/sql/functions.js';
import { withModelSize } from './job.js';
import { loadModel } from './job-model.js';
import { itemDims, resizeForModel, toTensor, validatePreprocess } from './preprocess.js';

/** Images per model run inside a query. */
const BATCH = 8;
/** Vectors kept across queries (oldest dropped first). */
const MAX_CACHED = 100_000;
const vectors = new Map<string, Float32Array | null>();
const stats = { computed: 0, cached: 0 };

/** Images `embed()` in SQL has run through a model, and answered from its cache, in this process. */
export function sqlEmbedStats(): { readonly computed: number; readonly cached: number } {
  return { ...stats };
}

/**
 * `embed(model, image)` → FLOAT[] (Rikai's ML_PREDICT): runs the ONNX model at `model` (a path or
 * storage URI) over the image a media reference names, exactly as the embedding job does with its
 * default options (preprocess from the model's input size, no normalization). Vectors are cached
 * by (model file sha256, dataset, version, column, row id), so the same model and row are not
 * recomputed by later queries; an undecodable image gives NULL, as the job stores null.
 */
export const embedFunction: AsyncSqlFunction = {
  name: 'embed',
  parameterTypes: (d) => [d.VARCHAR, mediaRefType(d)],
  returnType: (d) => d.LIST(d.FLOAT),
  key: (args, ctx) => {
    const ref = args[1] as MediaRef;
    const ds = ctx.dataset(ref.source);
    return [args[0], ds.uri, ds.version, ref.column, ref.row_id].join('\u0000');
  },
  async compute(calls, ctx, d) {
    const out: DuckDBValue[] = new Array<DuckDBValue>(calls.length).fill(null);
    const byModel = new Map<string, number[]>();
    calls.forEach(([model], j) => {
      const list = byModel.get(model as string) ?? [];
      list.push(j);
      byModel.set(model as string, list);
    });
    for (const [source, indexes] of byModel) {
      const { model, sha256 } = await loadModel(source, { signal: ctx.signal });
      try {
        const pre = validatePreprocess(withModelSize({}, model), model.inputShape);
        const todo: { j: number; key: string }[] = [];
        for (const j of indexes) {
          const ref = calls[j][1] as MediaRef;
          const ds = ctx.dataset(ref.source);
          const htype = ds.columnInfo(ref.column).htype;
          if (htype !== 'image') {
            throw new StrataError('UNSUPPORTED', `embed() in SQL takes image columns; ${ref.column} is ${htype}`, {
              column: ref.column,
              hint: 'embed videos with the embedding job (ds.embed / strata embed)',
            });
          }
          const key = [sha256, ds.uri, ds.version, ref.column, ref.row_id].join('\u0000');
          const hit = vectors.get(key);
          if (hit !== undefined) {
            stats.cached++;
            out[j] = hit && d.listValue(Array.from(hit));
          } else todo.push({ j, key });
        }
        for (let s = 0; s < todo.length; s += BATCH) {
          const part = todo.slice(s, s + BATCH);
          const pixels = await Promise.all(
            part.map(async ({ j }) => {
              const bytes = await ctx.mediaBytes(calls[j][1] as MediaRef);
              return bytes ? resizeForModel(bytes, pre).catch(() => null) : null;
            }),
          );
          stats.computed += part.length;
          const ok = part.filter((_, k) => pixels[k] !== null);
          const good = pixels.filter((p) => p !== null);
          const flat = good.length > 0 ? await model.run(toTensor(good, pre), good.length, itemDims(pre)) : null;
          const dim = flat ? flat.length / good.length : 0;
          part.forEach(({ key }) => remember(key, null));
          ok.forEach(({ j, key }, k) => {
            const v = (flat as Float32Array).slice(k * dim, (k + 1) * dim);
            remember(key, v);
            out[j] = d.listValue(Array.from(v));
          });
        }
      } finally {
        await model.close();
      }
    }
    return out;
  },
};

function remember(key: string, v: Float32Array | null): void {
  vectors.delete(key);
  vectors.set(key, v);
  while (vectors.size > MAX_CACHED) vectors.delete(vectors.keys().next().value as string);
}

registerSqlFunction(embedFunction);
