import type * as ort from 'onnxruntime-node';
import { StrataError } from '../errors.js';
import { openStorage, parseUri, type OpenStorageOptions } from '../storage/open.js';
import { EmbeddingModel, readModelFile } from './model.js';
import { TextModel } from './text-model.js';

/** A local .onnx path, a storage URI (`s3://bucket/models/m.onnx`, `file://`, `memory://`, `http(s)://`), model bytes, or a session. */
export type ModelSource = string | Uint8Array | ort.InferenceSession;

export interface LoadModelOptions {
  readonly inputName?: string;
  readonly outputName?: string;
  /** ONNX Runtime intra-op threads. Default: all cores. */
  readonly intraOpThreads?: number;
  /** ONNX Runtime execution providers in order of preference, e.g. ['cuda', 'cpu'] (see createSession). Default: CPU. */
  readonly executionProviders?: readonly string[];
  /** Receives a warning when a listed execution provider is unavailable. Default process.emitWarning. */
  readonly onWarning?: (message: string, code: string) => void;
  /** sha256 of the model file; required with an InferenceSession (its bytes are not visible). */
  readonly modelSha256?: string;
  /** Options for the storage a model URI is read from (S3 endpoint, credentials, ...). */
  readonly storageOptions?: OpenStorageOptions;
  readonly signal?: AbortSignal;
}

/** The loaded model and the string recorded as its origin in lineage. */
export interface LoadedModel<M = EmbeddingModel> {
  readonly model: M;
  readonly uri: string;
  readonly sha256: string;
  /** The model file's bytes (undefined for a session). */
  readonly bytes?: Uint8Array;
}

/** True for `scheme://...` strings other than Windows drive paths. */
export function isUri(s: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]+:\/\//.test(s);
}

/** Reads a model object through the storage layer: the URI's parent is the store, its last part the key. */
export async function readModelBytes(uri: string, options: LoadModelOptions = {}): Promise<Uint8Array> {
  parseUri(uri);
  const slash = uri.lastIndexOf('/');
  const root = uri.slice(0, slash);
  const key = uri.slice(slash + 1);
  if (!key || root.endsWith(':/')) {
    throw new StrataError('INVALID_ARGUMENT', `model URI ${uri} does not name a file`, {
      uri,
      field: 'model',
      hint: 'e.g. s3://bucket/models/model.onnx',
    });
  }
  const storage = await openStorage(root, options.storageOptions ?? {});
  try {
    return await storage.get(key, { signal: options.signal });
  } finally {
    await storage.close();
  }
}

/** The bytes of a model path, URI or bytes, and the string recorded as its origin. */
export async function modelFileBytes(
  source: string | Uint8Array,
  options: LoadModelOptions = {},
): Promise<{ readonly bytes: Uint8Array; readonly uri: string }> {
  if (source instanceof Uint8Array) return { bytes: source, uri: 'bytes' };
  if (source.startsWith('file://'))
    return { bytes: await readModelFile((parseUri(source) as { path: string }).path), uri: source };
  return { bytes: isUri(source) ? await readModelBytes(source, options) : await readModelFile(source), uri: source };
}

/** An image model (one float32 input), see EmbeddingModel. */
export function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  return loadWith(source, options, (src, sha256, uri) =>
    EmbeddingModel.load(src, {
      inputName: options.inputName,
      outputName: options.outputName,
      intraOpThreads: options.intraOpThreads,
      executionProviders: options.executionProviders,
      onWarning: options.onWarning,
      sha256,
      uri,
    }),
  );
}

/** A text model (token tensor inputs), see TextModel. */
export function loadTextModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel<TextModel>> {
  return loadWith(source, options, (src, sha256, uri) =>
    TextModel.load(src, {
      outputName: options.outputName,
      intraOpThreads: options.intraOpThreads,
      executionProviders: options.executionProviders,
      onWarning: options.onWarning,
      sha256,
      uri,
    }),
  );
}

/** Builds the model from bytes (named `uri` in messages) or a session (with its `sha256`). */
type ModelLoader<M> = (
  source: Uint8Array | ort.InferenceSession,
  sha256: string | undefined,
  uri: string,
) => Promise<M>;

async function loadWith<M extends { readonly sha256: string | undefined; close(): Promise<void> }>(
  source: ModelSource,
  options: LoadModelOptions,
  load: ModelLoader<M>,
): Promise<LoadedModel<M>> {
  let model: M;
  let uri: string;
  let bytes: Uint8Array | undefined;
  if (typeof source === 'string' || source instanceof Uint8Array) {
    // the file is read once: its bytes give the session, the sha256 and the inference workers
    ({ bytes, uri } = await modelFileBytes(source, options));
    model = await load(bytes, undefined, uri);
  } else {
    if (!options.modelSha256 || !/^[0-9a-f]{64}$/.test(options.modelSha256)) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        'an InferenceSession needs modelSha256 (the sha256 hex of its .onnx file)',
        {
          field: 'modelSha256',
          hint: 'pass modelSha256, or pass the model path/bytes instead of a session; lineage identifies models by sha256',
        },
      );
    }
    uri = 'session';
    model = await load(source, options.modelSha256, uri);
  }
  if (options.modelSha256 && model.sha256 !== options.modelSha256) {
    await model.close();
    throw new StrataError('CONFLICT', `model ${uri} has sha256 ${model.sha256}, expected ${options.modelSha256}`, {
      uri,
      field: 'modelSha256',
      hint: 'the model file changed; use the original file or drop modelSha256',
    });
  }
  return { model, uri, sha256: model.sha256 as string, bytes };
}
