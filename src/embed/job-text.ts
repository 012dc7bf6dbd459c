import { createHash } from 'node:crypto';
import type { Dataset } from '../dataset/dataset.js';
import { StrataError, throwIfAborted } from '../errors.js';
import type { EmbedOptions, EmbedSummary } from './job-options.js';
import { loadTextModel } from './job-model.js';
import { commitCadence, noopSummary, OutputWriter, planOutput, positiveInt } from './job-output.js';
import { overRanges } from './job-shard.js';
import { cells, type SourceItem } from './job-source.js';
import type { LineageIdentity } from './lineage.js';
import type { EmbeddedSample } from './pipeline.js';
import {
  TEXT_POOLINGS,
  tokenCount,
  type TextModel,
  type TextPreprocess,
  type TokenizerOutput,
  type Tokens,
} from './text-model.js';

/**
 * embed() for a text column: each text goes through the user's tokenizer, batches are padded to
 * their longest sequence (or the model's fixed length), the model runs on this thread, and per-token
 * outputs are pooled over the attention mask. Lineage, resumption, failures and commits are the
 * image job's (OutputWriter); the tokenizer is identified by `tokenizerName`.
 */
export async function embedTextColumn(ds: Dataset, options: EmbedOptions, t0: number): Promise<EmbedSummary> {
  const column = options.column;
  const tokenizer = options.tokenizer;
  if (typeof tokenizer !== 'function') {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `column ${column} holds text: embed() needs a tokenizer (text → token ids) to feed the model`,
      {
        column,
        field: 'tokenizer',
        hint: 'pass tokenizer: (text) => ids (or { input_ids, attention_mask, ... }) and a tokenizerName naming it',
      },
    );
  }
  const pooling = options.tokenPooling ?? 'mean';
  if (!TEXT_POOLINGS.includes(pooling)) {
    throw new StrataError('INVALID_ARGUMENT', `tokenPooling '${pooling}' is not supported`, {
      field: 'tokenPooling',
      hint: `use one of ${TEXT_POOLINGS.join(', ')}`,
    });
  }
  const cadence = commitCadence(options);
  const batchSize = positiveInt(options.batchSize ?? 32, 'batchSize'); // a model's fixed batch is handled by TextModel.run
  const padTokenId = options.padTokenId ?? 0;
  if (!Number.isInteger(padTokenId) || padTokenId < 0) {
    throw new StrataError('INVALID_ARGUMENT', `padTokenId must be an integer >= 0, got ${padTokenId}`, {
      field: 'padTokenId',
    });
  }

  const { model, uri, sha256 } = await loadTextModel(options.model, options);
  try {
    const maxTokens = positiveInt(options.maxTokens ?? model.fixedTokens ?? 512, 'maxTokens');
    const pre: TextPreprocess = {
      kind: 'text',
      tokenizer:
        options.tokenizerName ?? `sha256:${createHash('sha256').update(String(tokenizer)).digest('hex').slice(0, 16)}`,
      maxTokens,
      padTokenId,
      pooling,
    };
    const dim = model.outputDim ?? (await model.run([model.tokens([padTokenId], maxTokens)], pre)).length;
    const identity: LineageIdentity = {
      sourceColumn: column,
      model: { sha256, inputName: model.inputName, outputName: model.outputName },
      preprocess: pre,
      normalize: options.normalize ?? false,
      frames: null,
      pooling: null,
    };
    const plan = await planOutput(ds, identity, options, { uri, inputDims: model.inputs[0].dims, dim });
    if (plan.existing && plan.total <= 0) return noopSummary(ds, plan, dim, t0);
    const writer = new OutputWriter(ds, plan, identity, dim, options, cadence);
    let inferMs = 0;
    let writeMs = 0;
    const tRun = performance.now();
    try {
      let batch: SourceItem[] = [];
      const flush = async (): Promise<void> => {
        const t = performance.now();
        const out = await embedBatch(model, batch, pre, options);
        const tw = performance.now();
        inferMs += tw - t;
        await writer.write(out);
        writeMs += performance.now() - tw;
        batch = [];
      };
      for await (const item of overRanges(plan.todo, (start, end) => cells(ds, column, start, end, options.signal))) {
        throwIfAborted(options.signal, 'embedding job');
        batch.push(item);
        if (batch.length >= batchSize) await flush();
      }
      if (batch.length > 0) await flush();
      await writer.commit();
    } catch (err) {
      await ds.rollback();
      throw err;
    }
    return writer.summary(t0, { setup: (tRun - t0) / 1000, infer: inferMs / 1000, starved: 0, write: writeMs / 1000 });
  } finally {
    await model.close();
  }
}

/** Tokenizes and embeds one batch; null cells are empty, tokenizer errors are failures of their row. */
async function embedBatch(
  model: TextModel,
  batch: readonly SourceItem[],
  pre: TextPreprocess,
  options: EmbedOptions,
): Promise<EmbeddedSample[]> {
  const out: EmbeddedSample[] = [];
  const ready: { at: number; tokens: Tokens }[] = [];
  for (const { row, cell } of batch) {
    if (cell === null || cell === undefined) {
      out.push({ row, vectors: [], empty: true });
      continue;
    }
    let raw: TokenizerOutput;
    try {
      if (typeof cell !== 'string') throw new Error(`row ${row} holds ${typeof cell}, not text`);
      raw = await options.tokenizer!(cell);
    } catch (err) {
      out.push({ row, vectors: [], failure: `cannot tokenize: ${(err as Error).message}` });
      continue;
    }
    const tokens = model.tokens(raw, pre.maxTokens); // a result that does not fit the model fails the job
    if (tokenCount(tokens) === 0) out.push({ row, vectors: [], failure: 'the tokenizer returned no tokens' });
    else {
      ready.push({ at: out.length, tokens });
      out.push({ row, vectors: [] });
    }
  }
  if (ready.length > 0) {
    const y = await model.run(
      ready.map((r) => r.tokens),
      pre,
    );
    const d = y.length / ready.length;
    ready.forEach((r, i) => {
      out[r.at] = { ...out[r.at], vectors: [y.slice(i * d, (i + 1) * d)] };
    });
  }
  return out;
}
