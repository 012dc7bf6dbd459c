import { GraphBuilder, Rng } from './graph.js';
import { ONNX_INT64 } from './proto.js';

export interface TextEncoderOptions {
  readonly seed?: number;
  /** Token ids 0 .. vocab-1. Default 64. */
  readonly vocab?: number;
  /** Width of the token embedding table. Default 16. */
  readonly width?: number;
  /** Output width. Default 8. */
  readonly dim?: number;
  /**
   * 'tokens': output `last_hidden_state` [N, S, dim] (the caller pools); 'pooled': the graph itself
   * averages over positions where `attention_mask` is 1 and outputs `sentence_embedding` [N, dim].
   */
  readonly output?: 'tokens' | 'pooled';
  /** Add an `attention_mask` input (always with 'pooled'). Default true. */
  readonly mask?: boolean;
  /** Add a `token_type_ids` input, added to the ids' embedding through a second table. Default false. */
  readonly tokenTypes?: boolean;
  /** Fixed batch and sequence sizes (default symbolic N and S). */
  readonly batch?: number;
  readonly tokens?: number;
}

export interface TextEncoderWeights {
  readonly vocab: number;
  readonly width: number;
  readonly dim: number;
  /** [vocab, width] */
  readonly table: Float32Array;
  /** [2, width] (token types 0 and 1) */
  readonly typeTable?: Float32Array;
  /** [width, dim] */
  readonly w: Float32Array;
  readonly b: Float32Array;
}

/**
 * A tiny transformer-free text encoder with int64 token inputs, shaped like ONNX exports of text
 * models: `input_ids` [N, S] (and `attention_mask`, `token_type_ids`) → per token
 * tanh(table[id] (+ typeTable[type]) · W + b), either per token or mask-averaged in the graph.
 */
export function buildTextEncoder(options: TextEncoderOptions = {}): { bytes: Uint8Array; weights: TextEncoderWeights } {
  const rng = new Rng(options.seed ?? 1);
  const vocab = options.vocab ?? 64;
  const width = options.width ?? 16;
  const dim = options.dim ?? 8;
  const pooled = options.output === 'pooled';
  const hasMask = pooled || (options.mask ?? true);
  const weights: TextEncoderWeights = {
    vocab,
    width,
    dim,
    table: rng.normals(vocab * width, 0.5),
    typeTable: options.tokenTypes ? rng.normals(2 * width, 0.5) : undefined,
    w: rng.normals(width * dim, 1 / Math.sqrt(width)),
    b: rng.normals(dim, 0.1),
  };
  const g = new GraphBuilder('text_encoder');
  const shape = [options.batch ?? 'N', options.tokens ?? 'S'];
  const ids = g.input('input_ids', shape, ONNX_INT64);
  const mask = hasMask ? g.input('attention_mask', shape, ONNX_INT64) : undefined;
  let x = g.node('Gather', [g.weight('table', [vocab, width], weights.table), ids], { axis: { i: 0 } });
  if (weights.typeTable) {
    const types = g.input('token_type_ids', shape, ONNX_INT64);
    x = g.add(x, g.node('Gather', [g.weight('type_table', [2, width], weights.typeTable), types], { axis: { i: 0 } }));
  }
  const h = g.node(
    'Tanh',
    [g.add(g.matmul(x, g.weight('w', [width, dim], weights.w)), g.weight('b', [dim], weights.b))],
    {},
    pooled ? undefined : 'last_hidden_state',
  );
  if (!pooled) {
    g.output(h, [shape[0], shape[1], dim]);
    return { bytes: g.toBytes(), weights };
  }
  const m = g.node('Unsqueeze', [g.node('Cast', [mask!], { to: { i: 1 } }), g.int64('axis2', [2])]); // [N, S, 1]
  const axis1 = g.int64('axis1', [1]);
  const sum = g.node('ReduceSum', [g.node('Mul', [h, m]), axis1], { keepdims: { i: 0 } }); // [N, dim]
  const count = g.node('ReduceSum', [m, axis1], { keepdims: { i: 0 } }); // [N, 1]
  g.output(g.node('Div', [sum, count], {}, 'sentence_embedding'), [shape[0], dim]);
  return { bytes: g.toBytes(), weights };
}

/**
 * Independent reference for one text: tanh(table[id] (+ typeTable[type]) · W + b) per token, then
 * the mean over its tokens (or, with `pool: 'first'`, the first token), in float64.
 */
export function textEncoderReference(
  w: TextEncoderWeights,
  ids: readonly number[],
  types?: readonly number[],
  pool: 'mean' | 'first' = 'mean',
): Float32Array {
  const acc = new Float64Array(w.dim);
  const used = pool === 'first' ? ids.slice(0, 1) : ids;
  used.forEach((id, t) => {
    for (let j = 0; j < w.dim; j++) {
      let v = w.b[j];
      for (let k = 0; k < w.width; k++) {
        const e = w.table[id * w.width + k] + (w.typeTable && types ? w.typeTable[types[t] * w.width + k] : 0);
        v += e * w.w[k * w.dim + j];
      }
      acc[j] += Math.tanh(v);
    }
  });
  return Float32Array.from(acc, (v) => v / used.length);
}
