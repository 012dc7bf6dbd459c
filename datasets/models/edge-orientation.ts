import { GraphBuilder } from './onnx-builder.js';

/**
 * The image model of the examples and the README tour, built in-process (nothing downloaded, no
 * training): an edge-orientation descriptor. 16 oriented Sobel filters (every 22.5°, both polarities) over the RGB input, ReLU, then
 * global average pooling: a histogram of edge directions, which tells squares (0°/90° edges),
 * triangles (0°/±60°) and circles (every direction) apart wherever the shape sits and whatever its
 * size (after L2 normalization). A real ONNX graph run by ONNX Runtime like any model you bring.
 */
export const MODEL_INPUT = 64;
export const MODEL_DIM = 16;

export function edgeOrientationModel(): Uint8Array {
  const g = new GraphBuilder('edge_orientation');
  const x = g.input('image', ['N', 3, MODEL_INPUT, MODEL_INPUT]);
  const sobelX = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
  const sobelY = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
  const w = new Float32Array(MODEL_DIM * 3 * 9);
  for (let o = 0; o < MODEL_DIM; o++) {
    const theta = (2 * Math.PI * o) / MODEL_DIM;
    for (let c = 0; c < 3; c++)
      for (let k = 0; k < 9; k++)
        w[(o * 3 + c) * 9 + k] = (Math.cos(theta) * sobelX[k] + Math.sin(theta) * sobelY[k]) / 3;
  }
  const edges = g.relu(g.conv(x, g.weight('sobel.w', [MODEL_DIM, 3, 3, 3], w), undefined, 3, { pads: [1, 1, 1, 1] }));
  g.flatten(g.globalAveragePool(edges), 1, 'embedding');
  g.output('embedding', ['N', MODEL_DIM]);
  return g.toBytes();
}

/** Its file name where the examples and `npx tsx datasets/generate.ts` write it (under `models/`). */
export const EDGE_ORIENTATION_FILE = 'edge-orientation.onnx';
