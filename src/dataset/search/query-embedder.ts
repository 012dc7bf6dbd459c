/**
 * Turning an image or text query into a vector needs the column's model (ONNX, in src/embed, a
 * layer above this one). The dataset layer asks a `QueryEmbedder` for it: the one given in the
 * search options, else the one src/embed installs when it is loaded (the package entry point
 * loads it), else UNSUPPORTED. Vector and row queries need none.
 */
import { StrataError } from '../../errors.js';
import type { OpenStorageOptions } from '../../storage/open.js';

/** What a query embedder reads besides the query (src/embed: `QueryModelOptions`). */
export interface QueryEmbedOptions {
  /**
   * The model (a path or URI, its bytes, or an onnxruntime InferenceSession), when the lineage's own
   * source is not reachable; its sha256 must match the lineage's.
   */
  readonly model?: string | Uint8Array | object;
  readonly storageOptions?: OpenStorageOptions;
  /** Text columns: the tokenizer the column was embedded with (a text query is tokenized by it). */
  readonly tokenizer?: (
    text: string,
  ) =>
    | ArrayLike<number | bigint>
    | Readonly<Record<string, ArrayLike<number | bigint>>>
    | Promise<ArrayLike<number | bigint> | Readonly<Record<string, ArrayLike<number | bigint>>>>;
  readonly signal?: AbortSignal;
}

/** An image (encoded bytes) or a text to embed as `column` was computed (its lineage is in `meta`). */
export type EmbedQueryInput = { readonly image: Uint8Array } | { readonly text: string };

/** Embeds one query exactly as the column's vectors were computed (model, preprocess, normalization). */
export type QueryEmbedder = (
  input: EmbedQueryInput,
  column: { readonly name: string; readonly meta: Readonly<Record<string, unknown>> },
  options: QueryEmbedOptions,
) => Promise<Float32Array>;

let installed: QueryEmbedder | undefined;

/** Installs the embedder searches use when their options name none (src/embed does, when loaded). */
export function installQueryEmbedder(embedder: QueryEmbedder): void {
  installed = embedder;
}

/** The embedder to use: the given one, else the installed one, else UNSUPPORTED. */
export function queryEmbedder(given: QueryEmbedder | undefined, column: string): QueryEmbedder {
  const e = given ?? installed;
  if (!e) {
    throw new StrataError('UNSUPPORTED', `an image or text query of ${column} needs a query embedder`, {
      column,
      field: 'query',
      hint: 'import Strata from its package entry (which loads src/embed), pass options.embedQuery, or query with { vector }',
    });
  }
  return e;
}
