import { createHash } from 'node:crypto';
import { StrataError } from '../errors.js';
import { cachedMeta, metaKey, rememberMeta, type ModelMeta } from './inference-cache.js';
import { loadModel, modelFileBytes, type LoadModelOptions, type ModelSource } from './job-model.js';
import { EmbeddingModel } from './model.js';

/**
 * An embed job's model: its metadata at once, the main-thread session only when the job needs it
 * (running on this thread, or learning the output size). A model whose metadata an earlier job in
 * this process already read (same sha256, input/output names and providers) opens no session here.
 */
export interface JobModel {
  readonly meta: ModelMeta;
  readonly uri: string;
  readonly sha256: string;
  /** The model file's bytes (undefined for a session). */
  readonly bytes?: Uint8Array;
  /** The main-thread model (opened on first call). */
  model(): Promise<EmbeddingModel>;
  /** Records the output size learnt from a first run, for the next job. */
  rememberDim(dim: number): void;
  /** Releases the main-thread session, if one was opened. Idempotent. */
  close(): Promise<void>;
}

export async function openJobModel(source: ModelSource, options: LoadModelOptions): Promise<JobModel> {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
    const loaded = await loadModel(source, options);
    const meta = metaOf(loaded.model);
    return {
      meta,
      uri: loaded.uri,
      sha256: loaded.sha256,
      model: () => Promise.resolve(loaded.model),
      rememberDim: () => undefined,
      close: () => loaded.model.close(),
    };
  }
  const { bytes, uri } = await modelFileBytes(source, options);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (options.modelSha256 && sha256 !== options.modelSha256) {
    throw new StrataError('CONFLICT', `model ${uri} has sha256 ${sha256}, expected ${options.modelSha256}`, {
      uri,
      field: 'modelSha256',
      hint: 'the model file changed; use the original file or drop modelSha256',
    });
  }
  const key = metaKey(sha256, options);
  let opened: Promise<EmbeddingModel> | undefined;
  const open = () =>
    (opened ??= EmbeddingModel.load(bytes, {
      inputName: options.inputName,
      outputName: options.outputName,
      intraOpThreads: options.intraOpThreads,
      executionProviders: options.executionProviders,
      onWarning: options.onWarning,
      uri,
    }));
  let meta = cachedMeta(key);
  if (!meta) {
    meta = metaOf(await open());
    rememberMeta(key, meta);
  }
  const known = meta;
  return {
    meta,
    uri,
    sha256,
    bytes,
    model: open,
    rememberDim: (dim) => rememberMeta(key, { ...known, outputDim: dim }),
    close: async () => {
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}

function metaOf(m: EmbeddingModel): ModelMeta {
  return {
    inputName: m.inputName,
    outputName: m.outputName,
    inputShape: m.inputShape,
    fixedBatch: m.fixedBatch,
    outputDim: m.outputDim,
    executionProviders: m.executionProviders,
  };
}
