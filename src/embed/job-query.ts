import type { OpenStorageOptions } from '../storage/open.js';
import { StrataError } from '../errors.js';
import { loadModel, loadTextModel, type LoadModelOptions, type ModelSource } from './job-model.js';
import { isTextPreprocess, type EmbeddingLineage } from './lineage.js';
import type { Tokenizer } from './text-model.js';
import { itemDims, resizeForModel, toTensor } from './preprocess.js';
import { l2normalize } from './video.js';

export interface QueryModelOptions {
  /** The model, when the lineage's own source (a path or URI) is not reachable; its sha256 must match. */
  readonly model?: ModelSource;
  readonly storageOptions?: OpenStorageOptions;
  /** Text columns: the tokenizer the column was embedded with (a string query is tokenized by it). */
  readonly tokenizer?: Tokenizer;
  readonly signal?: AbortSignal;
}

/** The lineage's model source, and the options that check it is the same model. */
function querySource(
  lineage: EmbeddingLineage,
  column: string,
  options: QueryModelOptions,
): [ModelSource, LoadModelOptions] {
  const source = options.model ?? lineage.model.uri;
  if (options.model === undefined && (source === 'bytes' || source === 'session')) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `column ${column} was embedded with a model given as ${source}; pass it to search as options.model`,
      {
        column,
        field: 'model',
        hint: 'pass the same model (path, URI, bytes, or session); its sha256 is checked against the lineage',
      },
    );
  }
  return [
    source,
    {
      inputName: lineage.model.inputName,
      outputName: lineage.model.outputName,
      modelSha256: lineage.model.sha256,
      storageOptions: options.storageOptions,
      signal: options.signal,
      intraOpThreads: 1,
    },
  ];
}

/**
 * Embeds one image (encoded bytes) exactly as the column was computed: the lineage's model
 * (verified by sha256), input/output names, preprocess and normalization.
 */
export async function embedQueryImage(
  image: Uint8Array,
  lineage: EmbeddingLineage,
  column: string,
  options: QueryModelOptions = {},
): Promise<Float32Array> {
  const pre = lineage.preprocess;
  if (isTextPreprocess(pre)) {
    throw new StrataError('INVALID_ARGUMENT', `column ${column} holds text embeddings; an image cannot query it`, {
      column,
      field: 'query',
      hint: 'query with a string (and options.tokenizer), a vector, or a row',
    });
  }
  const { model } = await loadModel(...querySource(lineage, column, options));
  try {
    const px = await resizeForModel(image, pre);
    const v = await model.run(toTensor([px], pre), 1, itemDims(pre));
    return lineage.normalize ? l2normalize(v) : v;
  } finally {
    await model.close();
  }
}

/** Embeds one text exactly as the column was computed: the lineage's model and tokenizer settings. */
export async function embedQueryText(
  text: string,
  lineage: EmbeddingLineage,
  column: string,
  options: QueryModelOptions = {},
): Promise<Float32Array> {
  const pre = lineage.preprocess;
  if (!isTextPreprocess(pre)) {
    throw new StrataError('INVALID_ARGUMENT', `column ${column} holds image embeddings; a string cannot query it`, {
      column,
      field: 'query',
      hint: 'query with an image, a vector, or a row',
    });
  }
  if (typeof options.tokenizer !== 'function') {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `a text query of ${column} needs the tokenizer the column was embedded with ('${pre.tokenizer}')`,
      {
        column,
        field: 'tokenizer',
        hint: 'pass options.tokenizer',
      },
    );
  }
  const { model } = await loadTextModel(...querySource(lineage, column, options));
  try {
    const v = await model.run([model.tokens(await options.tokenizer(text), pre.maxTokens)], pre);
    return lineage.normalize ? l2normalize(v) : v;
  } finally {
    await model.close();
  }
}
