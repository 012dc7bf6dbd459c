import { GraphBuilder } from './graph.js';

/**
 * A model with several inputs and/or outputs, for name-resolution tests.
 * Inputs 'image' [N,3,8,8] (and 'mask' [N,3,8,8], added to it when inputs = 2);
 * outputs 'embedding' = Flatten(GlobalAveragePool(x)) [N,3] (and 'logits' = Relu(embedding) when outputs = 2).
 */
export function buildMultiIoModel(options: { readonly inputs?: 1 | 2; readonly outputs?: 1 | 2 } = {}): Uint8Array {
  const g = new GraphBuilder('multi_io');
  let x = g.input('image', ['N', 3, 8, 8]);
  if ((options.inputs ?? 2) === 2) x = g.add(x, g.input('mask', ['N', 3, 8, 8]));
  const e = g.flatten(g.globalAveragePool(x), 1, 'embedding');
  g.output(e, ['N', 3]);
  if ((options.outputs ?? 2) === 2) g.output(g.relu(e, 'logits'), ['N', 3]);
  return g.toBytes();
}
