import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { StrataError } from '../errors.js';
import { checkProviders, createSession } from './providers.js';

/** One model input or output. `dims` uses -1 for dynamic (symbolic or unknown) dimensions. */
export interface TensorInfo {
  readonly name: string;
  /** ONNX Runtime element type, e.g. 'float32'. */
  readonly type: string;
  readonly dims: readonly number[];
  /** Symbolic names of dynamic dims where the model declares them (e.g. 'N'), else undefined. */
  readonly symbols: readonly (string | undefined)[];
}

export interface EmbeddingModelOptions {
  /**
   * Input to feed. Default: the model's only input. A model with more than one required input is
   * refused (INVALID_ARGUMENT listing them): nothing could feed the others.
   */
  readonly inputName?: string;
  /** Output to read. Default: the model's only output (several → INVALID_ARGUMENT listing them). */
  readonly outputName?: string;
  /** ONNX Runtime intra-op threads. Default os.availableParallelism(). */
  readonly intraOpThreads?: number;
  /** ONNX Runtime inter-op threads. Default 1. */
  readonly interOpThreads?: number;
  /**
   * Let idle ONNX Runtime intra-op threads spin (busy-wait) between ops, ORT's default. Default true;
   * pass false when other work (decoding) needs the cores.
   */
  readonly spinning?: boolean;
  /** sha256 (hex) of the model file, when `source` is a session (bytes are hashed automatically). */
  readonly sha256?: string;
  /** Names model bytes in messages (the path or URI they were read from). Default 'bytes'. */
  readonly uri?: string;
  /** ONNX Runtime execution providers in order of preference (see createSession). Default: CPU. */
  readonly executionProviders?: readonly string[];
  /** Receives a warning when a listed execution provider is unavailable. Default process.emitWarning. */
  readonly onWarning?: (message: string, code: string) => void;
}

export function describe(meta: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, type: 'non-tensor', dims: [], symbols: [] };
  return {
    name: meta.name,
    type: meta.type,
    dims: meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1)),
    symbols: meta.shape.map((d) => (typeof d === 'string' && d !== '' ? d : undefined)),
  };
}

export function formatDims(dims: readonly number[]): string {
  return `[${dims.map((d) => (d < 0 ? '?' : String(d))).join(', ')}]`;
}

export function pick(
  kind: 'input' | 'output',
  all: readonly TensorInfo[],
  wanted: string | undefined,
  uri: string,
): TensorInfo {
  const names = all.map((t) => t.name);
  if (wanted !== undefined) {
    const found = all.find((t) => t.name === wanted);
    if (!found) {
      throw new StrataError('INVALID_ARGUMENT', `model ${uri} has no ${kind} named '${wanted}'`, {
        uri,
        field: `${kind}Name`,
        [`${kind}s`]: names,
        hint: `choose one of: ${names.map((n) => `'${n}'`).join(', ')}`,
      });
    }
    return found;
  }
  if (all.length !== 1) {
    throw new StrataError('INVALID_ARGUMENT', `model ${uri} has ${all.length} ${kind}s (${names.join(', ')})`, {
      uri,
      field: `${kind}Name`,
      [`${kind}s`]: names,
      hint: `pass ${kind}Name: one of ${names.map((n) => `'${n}'`).join(', ')}`,
    });
  }
  return all[0];
}

/**
 * An image model is fed one tensor, the pixel batch: every other input the session declares (ONNX
 * Runtime lists only required ones; an input with an initializer is not listed) would need a value
 * the job cannot supply. Such a model is refused when it is loaded (INVALID_ARGUMENT naming the
 * inputs), with or without `inputName` picking the pixel input.
 */
function refuseExtraInputs(inputs: readonly TensorInfo[], fed: TensorInfo | undefined, uri: string): void {
  if (inputs.length <= 1) return;
  const names = inputs.map((t) => t.name);
  const extra = fed ? names.filter((n) => n !== fed.name) : names;
  const list = (xs: readonly string[]) => xs.map((n) => `'${n}'`).join(', ');
  const what = fed
    ? `nothing can feed ${list(extra)} besides the pixel batch '${fed.name}'`
    : 'an image embedding model takes one, the pixel batch';
  throw new StrataError(
    'INVALID_ARGUMENT',
    `model ${uri} has ${inputs.length} required inputs (${list(names)}); ${what}`,
    {
      uri,
      field: 'inputName',
      inputs: names,
      extraInputs: extra,
      hint: 'export the model with the image as its only input (fix the other inputs as constants or initializers); see docs/MODELS.md',
    },
  );
}

/** A local .onnx file's bytes; NOT_FOUND (or IO) naming the file when it cannot be read. */
export async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO';
    throw new StrataError(code, `cannot read ONNX model ${path}`, {
      uri: path,
      file: path,
      cause: err,
      hint: 'pass a local .onnx path, model bytes, or an InferenceSession',
    });
  }
}

/** Options for opening an ONNX session (`EmbeddingModel`, `TextModel`). */
export interface SessionOptions {
  /** Names model bytes in messages (a path or URI they were read from). Default 'bytes'. */
  readonly uri?: string;
  readonly intraOpThreads?: number;
  readonly interOpThreads?: number;
  readonly spinning?: boolean;
  /** sha256 (hex) of the model file, when `source` is a session. */
  readonly sha256?: string;
  /** See EmbeddingModelOptions.executionProviders. */
  readonly executionProviders?: readonly string[];
  readonly onWarning?: (message: string, code: string) => void;
}

/** An ONNX Runtime session from a path, bytes or a session, with its origin and the bytes' sha256. */
export async function openSession(
  source: string | Uint8Array | ort.InferenceSession,
  options: SessionOptions = {},
): Promise<{
  readonly session: ort.InferenceSession;
  /** False for a session passed in (the caller releases it). */
  readonly owns: boolean;
  readonly uri: string;
  readonly sha256: string | undefined;
  /** The execution providers the session runs with (['cpu'] by default; unknown for a session passed in). */
  readonly executionProviders?: readonly string[];
}> {
  let session: ort.InferenceSession;
  let executionProviders: readonly string[] | undefined;
  const providers = options.executionProviders ? checkProviders(options.executionProviders) : undefined;
  let uri: string;
  let sha256 = options.sha256;
  const owns = typeof source === 'string' || source instanceof Uint8Array;
  if (owns) {
    uri = typeof source === 'string' ? source : (options.uri ?? 'bytes');
    const bytes = typeof source === 'string' ? await readModelFile(source) : source;
    sha256 = createHash('sha256').update(bytes).digest('hex');
    const name = uri;
    ({ session, providers: executionProviders } = await createSession(
      bytes,
      {
        intraOpNumThreads: options.intraOpThreads ?? availableParallelism(),
        interOpNumThreads: options.interOpThreads ?? 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        ...(options.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
      },
      providers,
      uri,
      (err) => {
        throw new StrataError('CORRUPT', `ONNX Runtime cannot load model ${name}: ${(err as Error).message}`, {
          uri: name,
          cause: err,
          hint: 'check that the file is a valid .onnx model (opset supported by onnxruntime-node)',
        });
      },
      options.onWarning,
    ));
  } else {
    session = source;
    uri = 'session';
  }
  return { session, owns, uri, sha256, executionProviders };
}

/**
 * An ONNX model that maps a float32 batch [n, ...item] to n embeddings of `outputDim` floats.
 * Create with `await EmbeddingModel.load(source, options)`; `close()` is idempotent. A session passed
 * in by the caller is not released by `close()` (the caller owns it).
 */
export class EmbeddingModel {
  private closed = false;
  private learnedDim: number | undefined;

  private constructor(
    /** The underlying ONNX Runtime session (for advanced use; do not release it yourself). */
    readonly session: ort.InferenceSession,
    private readonly ownsSession: boolean,
    /** Where the model came from (path, or 'bytes' / 'session'), for messages. */
    readonly uri: string,
    /** sha256 hex of the model bytes; undefined for a session without `options.sha256`. */
    readonly sha256: string | undefined,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
    /** The input fed by `run()`. */
    readonly inputShape: TensorInfo,
    /** The output read by `run()`. */
    readonly outputShape: TensorInfo,
    /** The execution providers the session runs with (undefined for a session passed in). */
    readonly executionProviders?: readonly string[],
  ) {
    const rest = outputShape.dims.slice(1);
    if (rest.length > 0 && rest.every((d) => d > 0)) this.learnedDim = rest.reduce((a, b) => a * b, 1);
  }

  get inputName(): string {
    return this.inputShape.name;
  }
  get outputName(): string {
    return this.outputShape.name;
  }

  /**
   * Floats per item in `run()`'s result (product of the output's non-batch dims). Undefined when the
   * model declares dynamic output dims and no batch has been run yet.
   */
  get outputDim(): number | undefined {
    return this.learnedDim;
  }

  /** The model's fixed batch size, or undefined when the batch dim is dynamic. */
  get fixedBatch(): number | undefined {
    const b = this.inputShape.dims[0];
    return b > 0 ? b : undefined;
  }

  /**
   * @param source local file path, model bytes (e.g. read through the storage layer), or a session.
   */
  static async load(
    source: string | Uint8Array | ort.InferenceSession,
    options: EmbeddingModelOptions = {},
  ): Promise<EmbeddingModel> {
    const { session, owns, uri, sha256, executionProviders } = await openSession(source, options);
    try {
      const inputs = session.inputMetadata.map(describe);
      const outputs = session.outputMetadata.map(describe);
      if (options.inputName === undefined) refuseExtraInputs(inputs, undefined, uri);
      const input = pick('input', inputs, options.inputName, uri);
      const output = pick('output', outputs, options.outputName, uri);
      for (const [kind, t] of [
        ['input', input],
        ['output', output],
      ] as const) {
        if (t.type !== 'float32') {
          throw new StrataError('UNSUPPORTED', `model ${uri} ${kind} '${t.name}' is ${t.type}, expected float32`, {
            uri,
            field: `${kind}Name`,
            hint: 'image embedding models must take and return float32 tensors',
          });
        }
      }
      refuseExtraInputs(inputs, input, uri);
      return new EmbeddingModel(session, owns, uri, sha256, inputs, outputs, input, output, executionProviders);
    } catch (err) {
      if (owns) await session.release();
      throw err;
    }
  }

  /**
   * Runs `n` items packed in `batch` (layout of the model input) and returns n × outputDim floats.
   * Note: onnxruntime-node computes on the calling JS thread, so the event loop is blocked for the
   * duration of the run; pipelines that must keep I/O moving run the model in a worker thread.
   * `itemDims` (the non-batch input dims, e.g. [3, 224, 224]) is needed only when the model declares
   * dynamic non-batch input dims. A model with a fixed batch size is run in chunks of that size.
   */
  async run(batch: Float32Array, n: number, itemDims?: readonly number[]): Promise<Float32Array> {
    if (this.closed) throw new StrataError('INVALID_ARGUMENT', `model ${this.uri} is closed`, { uri: this.uri });
    const dims = itemDims ?? this.inputShape.dims.slice(1);
    if (!Number.isInteger(n) || n < 1) {
      throw new StrataError('INVALID_ARGUMENT', `batch size must be a positive integer, got ${n}`, { field: 'n' });
    }
    if (dims.some((d) => d < 1) || dims.length !== this.inputShape.dims.length - 1) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `model input '${this.inputName}' has shape ${formatDims(this.inputShape.dims)}; pass itemDims (the per-item dims)`,
        { uri: this.uri, field: 'itemDims', hint: `e.g. itemDims from the preprocess size and layout` },
      );
    }
    const per = dims.reduce((a, b) => a * b, 1);
    if (batch.length !== n * per) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `batch has ${batch.length} floats, expected ${n} × ${per} for input '${this.inputName}' ${formatDims([n, ...dims])}`,
        { uri: this.uri, field: 'batch' },
      );
    }
    const step = this.fixedBatch ?? n;
    let out: Float32Array | undefined;
    for (let at = 0; at < n; at += step) {
      const count = Math.min(step, n - at);
      let slice = batch.subarray(at * per, (at + count) * per);
      if (count < step) {
        const padded = new Float32Array(step * per); // fixed-batch model: pad the last chunk
        padded.set(slice);
        slice = padded;
      }
      const y = await this.runOnce(slice, step, dims);
      const d = y.length / step;
      this.learnedDim ??= d;
      if (d !== this.learnedDim) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `model ${this.uri} output '${this.outputName}' changed width: ${d} vs ${this.learnedDim}`,
          { uri: this.uri, field: 'outputName' },
        );
      }
      if (step === n) return y;
      out ??= new Float32Array(n * d);
      out.set(y.subarray(0, count * d), at * d);
    }
    return out as Float32Array;
  }

  private async runOnce(data: Float32Array, n: number, dims: readonly number[]): Promise<Float32Array> {
    const tensor = new ort.Tensor('float32', data, [n, ...dims]);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run({ [this.inputName]: tensor }, [this.outputName]);
    } catch (err) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `model ${this.uri} failed on input '${this.inputName}' ${formatDims([n, ...dims])}: ${(err as Error).message}`,
        { uri: this.uri, cause: err, hint: 'check the preprocess size, layout and channels against the model input' },
      );
    } finally {
      tensor.dispose();
    }
    const y = result[this.outputName];
    if (y.dims[0] !== n) {
      throw new StrataError(
        'UNSUPPORTED',
        `model ${this.uri} output '${this.outputName}' has batch ${y.dims[0]}, expected ${n}`,
        { uri: this.uri, field: 'outputName', hint: 'the output must have the batch as its first dimension' },
      );
    }
    return y.data as Float32Array;
  }

  /** Idempotent. Releases the session unless the caller passed it in. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsSession) await this.session.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
