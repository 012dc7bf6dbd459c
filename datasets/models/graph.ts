import { encodeModel, type AttrValue, type Dim, type NodeSpec, type TensorSpec, type ValueInfoSpec } from './proto.js';

/** Deterministic PRNG (mulberry32) with a Box-Muller normal sampler. */
export class Rng {
  private state: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** n normal samples times `std`. */
  normals(n: number, std: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.normal() * std;
    return a;
  }
  /** n uniform samples in [lo, hi). */
  uniforms(n: number, lo: number, hi: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * this.next();
    return a;
  }
}

export interface ConvOptions {
  readonly strides?: readonly [number, number];
  /** [top, left, bottom, right] (ONNX order: begins then ends). Default zeros. */
  readonly pads?: readonly [number, number, number, number];
  /** Default 1; equal to the channel count for depthwise. */
  readonly group?: number;
}

/**
 * Builds an ONNX graph node by node. Every op method returns the name of its output value;
 * pass `out` to choose it (e.g. for graph outputs). Weights are float32 initializers.
 */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits: TensorSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private counter = 0;
  /** Number of float parameters in initializers (excluding int64 shape constants). */
  parameterCount = 0;

  constructor(readonly name = 'graph') {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** A graph input; `elemType` is an ONNX TensorProto.DataType (default float32). */
  input(name: string, dims: readonly Dim[], elemType?: number): string {
    this.inputs.push({ name, dims, elemType });
    return name;
  }

  output(name: string, dims: readonly Dim[]): void {
    this.outputs.push({ name, dims });
  }

  /** A float32 initializer. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected)
      throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    this.inits.push({ name, dims, data });
    this.parameterCount += data.length;
    return name;
  }

  /** An int64 initializer (shapes, axes). */
  int64(name: string, values: readonly number[]): string {
    this.inits.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** A scalar float32 constant (not counted as a parameter). */
  scalar(name: string, value: number): string {
    this.inits.push({ name, dims: [], data: Float32Array.of(value) });
    return name;
  }

  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [output], name: `${opType}_${this.nodes.length}`, attrs });
    return output;
  }

  conv(x: string, w: string, b: string | undefined, kernel: number, o: ConvOptions = {}, out?: string): string {
    const attrs: Record<string, AttrValue> = {
      kernel_shape: { ints: [kernel, kernel] },
      strides: { ints: [...(o.strides ?? [1, 1])] },
      pads: { ints: [...(o.pads ?? [0, 0, 0, 0])] },
      group: { i: o.group ?? 1 },
    };
    return this.node('Conv', b === undefined ? [x, w] : [x, w, b], attrs, out);
  }

  relu(x: string, out?: string): string {
    return this.node('Relu', [x], {}, out);
  }

  /** Clip with min/max as inputs (opset >= 11); Clip(0, 6) is ReLU6. */
  clip(x: string, min: number, max: number, out?: string): string {
    const lo = this.scalar(this.fresh('clip_min'), min);
    const hi = this.scalar(this.fresh('clip_max'), max);
    return this.node('Clip', [x, lo, hi], {}, out);
  }

  add(a: string, b: string, out?: string): string {
    return this.node('Add', [a, b], {}, out);
  }

  batchNorm(
    x: string,
    scale: string,
    bias: string,
    mean: string,
    variance: string,
    epsilon: number,
    out?: string,
  ): string {
    return this.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { f: epsilon } }, out);
  }

  globalAveragePool(x: string, out?: string): string {
    return this.node('GlobalAveragePool', [x], {}, out);
  }

  flatten(x: string, axis = 1, out?: string): string {
    return this.node('Flatten', [x], { axis: { i: axis } }, out);
  }

  /** Y = A · op(B) + C; transB = 1 means B is [out, in]. */
  gemm(a: string, b: string, c: string, transB = 1, out?: string): string {
    return this.node('Gemm', [a, b, c], { transB: { i: transB } }, out);
  }

  matmul(a: string, b: string, out?: string): string {
    return this.node('MatMul', [a, b], {}, out);
  }

  reshape(x: string, shape: readonly number[], out?: string): string {
    const s = this.int64(this.fresh('shape'), shape);
    return this.node('Reshape', [x, s], {}, out);
  }

  /** ReduceMean with `axes` as an attribute (opset 13-17). */
  reduceMean(x: string, axes: readonly number[], keepdims: boolean, out?: string): string {
    return this.node('ReduceMean', [x], { axes: { ints: [...axes] }, keepdims: { i: keepdims ? 1 : 0 } }, out);
  }

  softmax(x: string, axis = -1, out?: string): string {
    return this.node('Softmax', [x], { axis: { i: axis } }, out);
  }

  transpose(x: string, perm: readonly number[], out?: string): string {
    return this.node('Transpose', [x], { perm: { ints: [...perm] } }, out);
  }

  /** Serialized ModelProto (IR version 8, opset 13 by default). */
  toBytes(options: { readonly opset?: number; readonly irVersion?: number } = {}): Uint8Array {
    return encodeModel({
      graph: {
        name: this.name,
        nodes: this.nodes,
        initializers: this.inits,
        inputs: this.inputs,
        outputs: this.outputs,
      },
      opset: options.opset,
      irVersion: options.irVersion,
    });
  }
}
