import * as ort from 'onnxruntime-node';
import { StrataError } from '../errors.js';
import { describe, formatDims, openSession, pick, type SessionOptions, type TensorInfo } from './model.js';

/** Token ids for one text, or one array per model input (e.g. input_ids, attention_mask, token_type_ids). */
export type TokenizerOutput = ArrayLike<number | bigint> | Readonly<Record<string, ArrayLike<number | bigint>>>;
/** Turns one text into token ids; supplied by the user (e.g. a WordPiece/BPE tokenizer in JS). */
export type Tokenizer = (text: string) => TokenizerOutput | Promise<TokenizerOutput>;

/** How per-token outputs [N, S, D] become one vector: 'mean' over real tokens, or the 'first' ([CLS]). */
export const TEXT_POOLINGS = ['mean', 'first'] as const;
export type TextPooling = (typeof TEXT_POOLINGS)[number];

/** Everything besides the model that decides a text embedding (recorded in lineage). */
export interface TextPreprocess {
  readonly kind: 'text';
  /** Names the tokenizer (its vocabulary and rules): a different name is a different column. */
  readonly tokenizer: string;
  /** Longer token sequences are cut to this many. */
  readonly maxTokens: number;
  /** Id written after the end of shorter sequences in a batch (their attention mask is 0 there). */
  readonly padTokenId: number;
  /** Used when the model outputs one vector per token. */
  readonly pooling: TextPooling;
}

/** Input roles the job fills itself when the tokenizer returns plain ids. */
const ROLE_PATTERNS: readonly [role: 'ids' | 'mask' | 'types', pattern: RegExp][] = [
  ['mask', /mask/i],
  ['types', /type|segment/i],
  ['ids', /ids|token|input/i],
];

export interface TextModelOptions extends SessionOptions {
  /** Output to read. Default: the model's only output. */
  readonly outputName?: string;
}

/** One tokenized text: an array per model input, all of one length. */
export type Tokens = Readonly<Record<string, ArrayLike<number | bigint>>>;

/**
 * An ONNX text model whose inputs are token tensors [N, S] (int64 or int32): token ids, and
 * optionally an attention mask and token type ids, which are derived from the ids when the tokenizer
 * returns plain ids. The output is [N, D] (pooled by the model) or [N, S, D] (pooled here over the
 * attention mask, see TextPooling).
 */
export class TextModel {
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly owns: boolean,
    readonly uri: string,
    readonly sha256: string | undefined,
    readonly inputs: readonly TensorInfo[],
    readonly output: TensorInfo,
    /** Input name per role the job can fill from plain ids. */
    private readonly roles: Readonly<Partial<Record<'ids' | 'mask' | 'types', string>>>,
  ) {}

  get inputName(): string {
    return this.inputs.map((i) => i.name).join(',');
  }
  get outputName(): string {
    return this.output.name;
  }
  /** Vector width when the model declares it. */
  get outputDim(): number | undefined {
    const d = this.output.dims.at(-1)!;
    return d > 0 ? d : undefined;
  }
  /** The batch size the model fixes, if any (runs are split and padded to it). */
  get fixedBatch(): number | undefined {
    const b = this.inputs[0].dims[0];
    return b > 0 ? b : undefined;
  }
  /** The sequence length the model fixes, if any. */
  get fixedTokens(): number | undefined {
    const s = this.inputs[0].dims[1];
    return s > 0 ? s : undefined;
  }

  static async load(
    source: string | Uint8Array | ort.InferenceSession,
    options: TextModelOptions = {},
  ): Promise<TextModel> {
    const { session, owns, uri, sha256 } = await openSession(source, options);
    const fail = async (
      code: 'UNSUPPORTED' | 'INVALID_ARGUMENT',
      message: string,
      details: Record<string, unknown>,
    ): Promise<never> => {
      if (owns) await session.release();
      throw new StrataError(code, message, { uri, ...details });
    };
    const inputs = session.inputMetadata.map(describe);
    const bad = inputs.find((t) => !['int64', 'int32'].includes(t.type) || t.dims.length !== 2);
    if (bad) {
      await fail(
        'UNSUPPORTED',
        `model ${uri} input '${bad.name}' is ${bad.type} ${formatDims(bad.dims)}; a text model takes token tensors [batch, tokens] of int64 or int32`,
        {
          field: 'model',
          inputs: inputs.map((t) => t.name),
          hint: 'image models embed image or video columns; for text pass a model whose inputs are token ids',
        },
      );
    }
    const output = pick('output', session.outputMetadata.map(describe), options.outputName, uri);
    if (output.type !== 'float32' || (output.dims.length !== 2 && output.dims.length !== 3)) {
      await fail(
        'UNSUPPORTED',
        `model ${uri} output '${output.name}' is ${output.type} ${formatDims(output.dims)}; expected float32 [batch, dim] or [batch, tokens, dim]`,
        {
          field: 'outputName',
          hint: 'pick the pooled or the last hidden state output with outputName',
        },
      );
    }
    const roles: Partial<Record<'ids' | 'mask' | 'types', string>> = {};
    for (const t of inputs) {
      const role = inputs.length === 1 ? 'ids' : ROLE_PATTERNS.find(([, re]) => re.test(t.name))?.[0];
      if (role && roles[role] === undefined) roles[role] = t.name;
    }
    return new TextModel(session, owns, uri, sha256, inputs, output, roles);
  }

  /**
   * The tokenizer's result as one array per model input, cut to `maxTokens`: plain ids fill the ids
   * input, an all-ones mask and zero token types; an object must name every input (INVALID_ARGUMENT
   * otherwise). The arrays are empty when the tokenizer returned no tokens.
   */
  tokens(out: TokenizerOutput, maxTokens: number): Tokens {
    const named = !isArrayLike(out);
    const ids = named ? undefined : out;
    const result: Record<string, ArrayLike<number | bigint>> = {};
    let length = -1;
    for (const input of this.inputs) {
      let v: ArrayLike<number | bigint> | undefined;
      if (named) v = out[input.name];
      else if (input.name === this.roles.ids) v = ids;
      else if (input.name === this.roles.mask) v = new Int32Array(ids!.length).fill(1);
      else if (input.name === this.roles.types) v = new Int32Array(ids!.length);
      if (v === undefined || !isArrayLike(v)) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          named
            ? `the tokenizer returned no array for model input '${input.name}'`
            : `model ${this.uri} input '${input.name}' is not token ids, an attention mask or token type ids, so plain ids cannot fill it`,
          {
            uri: this.uri,
            field: 'tokenizer',
            inputs: this.inputs.map((t) => t.name),
            hint: `return { ${this.inputs.map((t) => `${t.name}: [...]`).join(', ')} } from the tokenizer`,
          },
        );
      }
      const cut =
        v.length > maxTokens ? (Array.prototype.slice.call(v, 0, maxTokens) as ArrayLike<number | bigint>) : v;
      if (length >= 0 && cut.length !== length) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `the tokenizer returned arrays of different lengths (${length} and ${cut.length} for '${input.name}')`,
          {
            uri: this.uri,
            field: 'tokenizer',
            hint: 'every per-input array of one text must have the same length',
          },
        );
      }
      length = cut.length;
      result[input.name] = cut;
    }
    return result;
  }

  /**
   * Runs a batch of tokenized texts, padded to the longest (or the model's fixed length) with
   * `padTokenId` in the ids and 0 elsewhere, and returns n × dim floats.
   */
  async run(batch: readonly Tokens[], pre: Pick<TextPreprocess, 'padTokenId' | 'pooling'>): Promise<Float32Array> {
    if (this.closed) throw new StrataError('INVALID_ARGUMENT', `model ${this.uri} is closed`, { uri: this.uri });
    const fb = this.fixedBatch;
    if (fb !== undefined && batch.length !== fb) return this.runFixedBatch(batch, fb, pre);
    const n = batch.length;
    const lengths = batch.map((t) => tokenCount(t));
    if (lengths.includes(0))
      throw new StrataError('INVALID_ARGUMENT', 'a text with no tokens cannot be embedded', {
        field: 'tokenizer',
        hint: 'return at least one token id per text',
      });
    const s = this.fixedTokens ?? Math.max(...lengths);
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.inputs) {
      const pad = input.name === this.roles.ids ? pre.padTokenId : 0;
      const wide = input.type === 'int64';
      const data = wide ? new BigInt64Array(n * s).fill(BigInt(pad)) : new Int32Array(n * s).fill(pad);
      batch.forEach((t, i) => {
        const v = t[input.name];
        for (let j = 0; j < v.length && j < s; j++) {
          if (wide) (data as BigInt64Array)[i * s + j] = BigInt(v[j]);
          else (data as Int32Array)[i * s + j] = Number(v[j]);
        }
      });
      feeds[input.name] = new ort.Tensor(input.type as 'int64' | 'int32', data, [n, s]);
    }
    let y: ort.Tensor;
    try {
      y = (await this.session.run(feeds, [this.output.name]))[this.output.name];
    } catch (err) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `model ${this.uri} failed on a batch of ${n} texts of ${s} tokens: ${(err as Error).message}`,
        {
          uri: this.uri,
          cause: err,
          hint: 'check the token ids against the model vocabulary and maxTokens against its limit',
        },
      );
    }
    const data = y.data as Float32Array;
    if (y.dims.length === 2) return data;
    // [n, s, d]: pool over each text's real tokens (the mask, or its own length when there is none)
    const d = Number(y.dims[2]);
    const out = new Float32Array(n * d);
    const mask = this.roles.mask ? batch.map((t) => t[this.roles.mask!]) : undefined;
    for (let i = 0; i < n; i++) {
      const use = (j: number): boolean => (mask ? Number(mask[i][j] ?? 0) !== 0 : j < lengths[i]);
      let count = 0;
      for (let j = 0; j < s; j++) {
        if (!use(j)) continue;
        const row = data.subarray((i * s + j) * d, (i * s + j + 1) * d);
        for (let k = 0; k < d; k++) out[i * d + k] += row[k];
        count++;
        if (pre.pooling === 'first') break;
      }
      for (let k = 0; k < d; k++) out[i * d + k] /= Math.max(1, count);
    }
    return out;
  }

  /** A model with a fixed batch: runs of exactly `fb` texts, the last padded with copies of its first. */
  private async runFixedBatch(
    batch: readonly Tokens[],
    fb: number,
    pre: Pick<TextPreprocess, 'padTokenId' | 'pooling'>,
  ): Promise<Float32Array> {
    const parts: Float32Array[] = [];
    for (let at = 0; at < batch.length; at += fb) {
      const part = batch.slice(at, at + fb);
      const real = part.length;
      while (part.length < fb) part.push(part[0]);
      const y = await this.run(part, pre);
      parts.push(y.subarray(0, (y.length / fb) * real));
    }
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Idempotent. Releases the session unless the caller passed it in. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owns) await this.session.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Tokens in one tokenized text. */
export function tokenCount(t: Tokens): number {
  for (const k in t) return t[k].length;
  return 0;
}

function isArrayLike(v: unknown): v is ArrayLike<number | bigint> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}
