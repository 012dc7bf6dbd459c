import { GraphBuilder, Rng } from './graph.js';

/**
 * A MobileNetV2-shaped network (Sandler et al. 2018, width 1.0) with fixed-seed random weights, for
 * benchmarks: realistic compute (~0.3 GMAC at 224²), not meaningful features. BatchNorm is folded
 * into conv biases, as in deployed models. The 1000-class classifier is replaced by a Gemm to `dim`,
 * so at dim = 512 the model has ~2.9M parameters.
 *
 * Weights are He-scaled (std √(2/fan_in)) before ReLU6 and √(1/fan_in) on linear bottlenecks, with
 * residual branches scaled by 0.5, so activations stay finite and O(1) for O(1) inputs.
 */
export interface MobileNetV2Options {
  readonly seed: number;
  /** Default 224. */
  readonly inputSize?: number;
  /** Embedding width. Default 512. */
  readonly dim?: number;
  readonly inputName?: string;
  readonly outputName?: string;
}

/** (expansion t, output channels c, repeats n, first stride s), as in the paper. */
const BLOCKS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function buildMobileNetV2Like(options: MobileNetV2Options): { bytes: Uint8Array; parameters: number } {
  const rng = new Rng(options.seed);
  const size = options.inputSize ?? 224;
  const dim = options.dim ?? 512;
  const g = new GraphBuilder('mobilenet_v2_like');
  let layer = 0;

  const conv = (
    x: string,
    cin: number,
    cout: number,
    k: number,
    stride: number,
    group: number,
    act: boolean,
    gain = 1,
  ): string => {
    const fanIn = (cin / group) * k * k;
    const std = gain * Math.sqrt((act ? 2 : 1) / fanIn);
    const name = `l${layer++}`;
    const w = g.weight(`${name}.w`, [cout, cin / group, k, k], rng.normals(cout * (cin / group) * k * k, std));
    const b = g.weight(`${name}.b`, [cout], rng.normals(cout, 0.01));
    const p = (k - 1) / 2;
    const y = g.conv(x, w, b, k, { strides: [stride, stride], pads: [p, p, p, p], group });
    return act ? g.clip(y, 0, 6) : y;
  };

  const inName = options.inputName ?? 'input';
  let x = g.input(inName, ['N', 3, size, size]);
  x = conv(x, 3, 32, 3, 2, 1, true);
  let cin = 32;
  for (const [t, c, n, s] of BLOCKS) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = cin * t;
      const residual = stride === 1 && cin === c;
      let y = t === 1 ? x : conv(x, cin, hidden, 1, 1, 1, true);
      y = conv(y, hidden, hidden, 3, stride, hidden, true);
      y = conv(y, hidden, c, 1, 1, 1, false, residual ? 0.5 : 1);
      x = residual ? g.add(x, y) : y;
      cin = c;
    }
  }
  x = conv(x, cin, 1280, 1, 1, 1, true);
  const v = g.flatten(g.globalAveragePool(x), 1);
  const outName = options.outputName ?? 'embedding';
  const fcW = g.weight('fc.w', [dim, 1280], rng.normals(dim * 1280, Math.sqrt(1 / 1280)));
  const fcB = g.weight('fc.b', [dim], new Float32Array(dim));
  g.gemm(v, fcW, fcB, 1, outName);
  g.output(outName, ['N', dim]);
  return { bytes: g.toBytes(), parameters: g.parameterCount };
}
