/**
 * Real ONNX models for tests and benchmarks, built in-process (nothing downloaded):
 * a protobuf encoder for ModelProto (IR 8, opset 13), a graph builder, and four model families.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export { GraphBuilder, Rng, type ConvOptions } from './graph.js';
export { encodeModel, PbWriter, type AttrValue, type Dim, type ModelSpec, type GraphSpec } from './proto.js';
export {
  buildTinyConvNet,
  tinyConvNetReference,
  type TinyConvNetOptions,
  type TinyConvNetWeights,
  type ConvLayer,
} from './tiny-convnet.js';
export { buildMobileNetV2Like, type MobileNetV2Options } from './mobilenet-v2.js';
export { buildMultiIoModel } from './multi-io.js';
export {
  buildTextEncoder,
  textEncoderReference,
  type TextEncoderOptions,
  type TextEncoderWeights,
} from './text-encoder.js';

/** Writes model bytes to `path`, creating parent directories. */
export async function writeModel(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}
