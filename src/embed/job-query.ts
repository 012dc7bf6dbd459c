import type { OpenStorageOptions } from '../storage/open.js';
import { StrataError } from '../errors.js';
import { loadModel, type ModelSource } from './job-model.js';
import type { EmbeddingLineage } from './lineage.js';
import { itemDims, resizeForModel, toTensor } from './preprocess.js';
import { l2normalize } from './video.js';

export interface QueryModelOptions {
  /** The model, when the lineage's own source (a path or URI) is not reachable; its sha256 must match. */
  readonly model?: ModelSource;
  readonly storageOptions?: OpenStorageOptions;
  readonly signal?: AbortSignal;
}

/**
 * Embeds one image (encoded bytes) exactly as the column was computed: the lineage's model
 * (verified by sha256), input/output names, preprocess and normalization.
 */
export async function embedQueryImage(image: Uint8Array, lineage: EmbeddingLineage, column: string, options: QueryModelOptions = {}): Promise<Float32Array> {
  const source = options.model ?? lineage.model.uri;
  if (options.model === undefined && (source === 'bytes' || source === 'session')) {
    throw new StrataError('INVALID_ARGUMENT', `column ${column} was embedded with a model given as ${source}; pass it to search as options.model`, {
      column, field: 'model', hint: 'pass the same model (path, URI, bytes, or session); its sha256 is checked against the lineage',
    });
  }
  const { model } = await loadModel(source, {
    inputName: lineage.model.inputName, outputName: lineage.model.outputName,
    modelSha256: lineage.model.sha256, storageOptions: options.storageOptions, signal: options.signal, intraOpThreads: 1,
  });
  try {
    const pre = lineage.preprocess;
    const px = await resizeForModel(image, pre);
    const v = await model.run(toTensor([px], pre), 1, itemDims(pre));
    return lineage.normalize ? l2normalize(v) : v;
  } finally {
    await model.close();
  }
}
