import { GraphBuilder, Rng } from './graph.js';

/**
 * A tiny conv net for tests, plus an independent float64 JS forward pass of the same weights.
 *
 *   x → [Transpose if NHWC] → Conv3x3/s2 (C→8) → BatchNorm? → Relu = a
 *     → depthwise Conv3x3 (group 8) → Clip(0,6) → Conv1x1 (8→8) = p;  r = a + p
 *     → Conv3x3/s2 pads [0,0,1,1] (8→16) → Relu
 *     → head 'gap-gemm': GlobalAveragePool → Flatten → Gemm(transB)          → [Softmax?] → embedding [N, dim]
 *       head 'reducemean-matmul': ReduceMean(2,3) → Reshape[-1,16] → MatMul → Add
 */
export interface TinyConvNetOptions {
  readonly seed: number;
  /** Square side or [h, w]. Default 32. */
  readonly inputSize?: number | readonly [number, number];
  /** 1 (gray) or 3. Default 3. */
  readonly channels?: number;
  /** Embedding width. Default 16. */
  readonly dim?: number;
  /** Model input layout. Default 'NCHW'. */
  readonly layout?: 'NCHW' | 'NHWC';
  readonly head?: 'gap-gemm' | 'reducemean-matmul';
  readonly softmax?: boolean;
  /** Default true. */
  readonly batchNorm?: boolean;
  /** Declare H and W as symbolic ('H', 'W') instead of fixed. Default false. */
  readonly dynamicSpatial?: boolean;
  /** Fixed batch size instead of symbolic 'N'. */
  readonly fixedBatch?: number;
  readonly inputName?: string;
  readonly outputName?: string;
}

export interface ConvLayer {
  readonly w: Float32Array; // [cout, cin/group, k, k]
  readonly b: Float32Array; // [cout]
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly stride: number;
  readonly pads: readonly [number, number, number, number]; // top, left, bottom, right
  readonly group: number;
}

export interface TinyConvNetWeights {
  readonly channels: number;
  readonly inputSize: readonly [number, number];
  readonly layout: 'NCHW' | 'NHWC';
  readonly dim: number;
  readonly head: 'gap-gemm' | 'reducemean-matmul';
  readonly softmax: boolean;
  readonly conv1: ConvLayer;
  readonly bn?: {
    readonly scale: Float32Array;
    readonly bias: Float32Array;
    readonly mean: Float32Array;
    readonly variance: Float32Array;
    readonly epsilon: number;
  };
  readonly dw: ConvLayer;
  readonly pw: ConvLayer;
  readonly conv3: ConvLayer;
  /** [dim, 16] row-major (out × in). */
  readonly fcW: Float32Array;
  readonly fcB: Float32Array;
}

function convLayer(
  rng: Rng,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  pads: ConvLayer['pads'],
  group = 1,
  gain = 1,
): ConvLayer {
  const fanIn = (cin / group) * k * k;
  return {
    w: rng.normals(cout * (cin / group) * k * k, gain * Math.sqrt(2 / fanIn)),
    b: rng.normals(cout, 0.1),
    cin,
    cout,
    k,
    stride,
    pads,
    group,
  };
}

function addConv(g: GraphBuilder, x: string, name: string, l: ConvLayer): string {
  const w = g.weight(`${name}.w`, [l.cout, l.cin / l.group, l.k, l.k], l.w);
  const b = g.weight(`${name}.b`, [l.cout], l.b);
  return g.conv(x, w, b, l.k, { strides: [l.stride, l.stride], pads: l.pads, group: l.group });
}

export function buildTinyConvNet(options: TinyConvNetOptions): { bytes: Uint8Array; weights: TinyConvNetWeights } {
  const rng = new Rng(options.seed);
  const size = options.inputSize ?? 32;
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const c = options.channels ?? 3;
  const dim = options.dim ?? 16;
  const layout = options.layout ?? 'NCHW';
  const head = options.head ?? 'gap-gemm';
  const weights: TinyConvNetWeights = {
    channels: c,
    inputSize: [h, w],
    layout,
    dim,
    head,
    softmax: options.softmax ?? false,
    conv1: convLayer(rng, c, 8, 3, 2, [1, 1, 1, 1]),
    bn:
      options.batchNorm === false
        ? undefined
        : {
            scale: rng.uniforms(8, 0.5, 1.5),
            bias: rng.normals(8, 0.1),
            mean: rng.normals(8, 0.1),
            variance: rng.uniforms(8, 0.5, 1.5),
            epsilon: 1e-5,
          },
    dw: convLayer(rng, 8, 8, 3, 1, [1, 1, 1, 1], 8, 3), // gain 3 so Clip(0,6) actually clips
    pw: convLayer(rng, 8, 8, 1, 1, [0, 0, 0, 0]),
    conv3: convLayer(rng, 8, 16, 3, 2, [0, 0, 1, 1]),
    fcW: rng.normals(dim * 16, Math.sqrt(1 / 16)),
    fcB: rng.normals(dim, 0.1),
  };

  const g = new GraphBuilder('tiny_convnet');
  const batch = options.fixedBatch ?? 'N';
  const [hd, wd] = options.dynamicSpatial ? ['H', 'W'] : [h, w];
  const inName = options.inputName ?? 'input';
  let x = g.input(inName, layout === 'NCHW' ? [batch, c, hd, wd] : [batch, hd, wd, c]);
  if (layout === 'NHWC') x = g.transpose(x, [0, 3, 1, 2]);
  x = addConv(g, x, 'conv1', weights.conv1);
  if (weights.bn) {
    const bn = weights.bn;
    x = g.batchNorm(
      x,
      g.weight('bn.scale', [8], bn.scale),
      g.weight('bn.bias', [8], bn.bias),
      g.weight('bn.mean', [8], bn.mean),
      g.weight('bn.var', [8], bn.variance),
      bn.epsilon,
    );
  }
  const a = g.relu(x);
  const p = addConv(g, g.clip(addConv(g, a, 'dw', weights.dw), 0, 6), 'pw', weights.pw);
  const f = g.relu(addConv(g, g.add(a, p), 'conv3', weights.conv3));
  const outName = options.outputName ?? 'embedding';
  const last = weights.softmax ? undefined : outName;
  let e: string;
  if (head === 'gap-gemm') {
    const v = g.flatten(g.globalAveragePool(f), 1);
    e = g.gemm(v, g.weight('fc.w', [dim, 16], weights.fcW), g.weight('fc.b', [dim], weights.fcB), 1, last);
  } else {
    const v = g.reshape(g.reduceMean(f, [2, 3], true), [-1, 16]);
    const wt = new Float32Array(16 * dim);
    for (let o = 0; o < dim; o++) for (let i = 0; i < 16; i++) wt[i * dim + o] = weights.fcW[o * 16 + i];
    e = g.add(g.matmul(v, g.weight('fc.wT', [16, dim], wt)), g.weight('fc.b', [dim], weights.fcB), last);
  }
  if (weights.softmax) e = g.softmax(e, -1, outName);
  g.output(e, [batch, dim]);
  return { bytes: g.toBytes(), weights };
}

// ---- independent reference (float64, NCHW, one sample at a time) ----------------------------

function conv2d(x: Float64Array, h: number, w: number, l: ConvLayer): { y: Float64Array; h: number; w: number } {
  const [pt, pl, pb, pr] = l.pads;
  const oh = Math.floor((h + pt + pb - l.k) / l.stride) + 1;
  const ow = Math.floor((w + pl + pr - l.k) / l.stride) + 1;
  const y = new Float64Array(l.cout * oh * ow);
  const cinG = l.cin / l.group;
  const coutG = l.cout / l.group;
  for (let co = 0; co < l.cout; co++) {
    const gi = Math.floor(co / coutG);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let s = l.b[co];
        for (let ci = 0; ci < cinG; ci++) {
          const cIn = gi * cinG + ci;
          for (let ky = 0; ky < l.k; ky++) {
            const iy = oy * l.stride + ky - pt;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < l.k; kx++) {
              const ix = ox * l.stride + kx - pl;
              if (ix < 0 || ix >= w) continue;
              s += x[(cIn * h + iy) * w + ix] * l.w[((co * cinG + ci) * l.k + ky) * l.k + kx];
            }
          }
        }
        y[(co * oh + oy) * ow + ox] = s;
      }
    }
  }
  return { y, h: oh, w: ow };
}

/**
 * Forward pass of `weights` on an NCHW float batch (always NCHW here, whatever the model's
 * layout: the ONNX model transposes NHWC inside). Returns n × dim float64 values.
 */
export function tinyConvNetReference(
  weights: TinyConvNetWeights,
  inputNCHW: ArrayLike<number>,
  /** Spatial size of the input when the model was built with dynamicSpatial. Default weights.inputSize. */
  inputSize: readonly [number, number] = weights.inputSize,
): Float64Array {
  const [H, W] = inputSize;
  const C = weights.channels;
  const per = C * H * W;
  const n = inputNCHW.length / per;
  if (!Number.isInteger(n)) throw new Error(`input length ${inputNCHW.length} is not a multiple of ${per}`);
  const out = new Float64Array(n * weights.dim);
  for (let s = 0; s < n; s++) {
    const x = Float64Array.from({ length: per }, (_, i) => inputNCHW[s * per + i]);
    const conv1 = conv2d(x, H, W, weights.conv1);
    const { h, w } = conv1;
    let a = conv1.y;
    const hw = h * w;
    if (weights.bn) {
      const bn = weights.bn;
      for (let c = 0; c < 8; c++) {
        const k = bn.scale[c] / Math.sqrt(bn.variance[c] + bn.epsilon);
        for (let i = 0; i < hw; i++) a[c * hw + i] = (a[c * hw + i] - bn.mean[c]) * k + bn.bias[c];
      }
    }
    a = a.map((v) => Math.max(0, v));
    const d = conv2d(a, h, w, weights.dw).y.map((v) => Math.min(6, Math.max(0, v)));
    const p = conv2d(d, h, w, weights.pw).y;
    const r = a.map((v, i) => v + p[i]);
    const f3 = conv2d(r, h, w, weights.conv3);
    const f = f3.y.map((v) => Math.max(0, v));
    const pooled = new Float64Array(16);
    const hw3 = f3.h * f3.w;
    for (let c = 0; c < 16; c++) {
      let sum = 0;
      for (let i = 0; i < hw3; i++) sum += f[c * hw3 + i];
      pooled[c] = sum / hw3;
    }
    const e = new Float64Array(weights.dim);
    for (let o = 0; o < weights.dim; o++) {
      let sum = weights.fcB[o];
      for (let i = 0; i < 16; i++) sum += pooled[i] * weights.fcW[o * 16 + i];
      e[o] = sum;
    }
    if (weights.softmax) {
      const m = Math.max(...e);
      let z = 0;
      for (let o = 0; o < e.length; o++) z += e[o] = Math.exp(e[o] - m);
      for (let o = 0; o < e.length; o++) e[o] /= z;
    }
    out.set(e, s * weights.dim);
  }
  return out;
}
