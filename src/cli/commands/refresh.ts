import type { Command } from '../command.js';
import { flag, int, integerAtLeast, str } from '../command.js';
import { json } from '../format.js';
import { BRANCH_OPTION, JSON_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'refresh',
  summary:
    'Recomputes the stale rows of a derived column: rows whose source changed (update, merge), rows appended since, values written by hand. An embedding column runs its model (from the lineage, or --model with the same sha256) on exactly those rows, as one commit. Columns made by derive() need their function: refresh them from code (ds.refresh(column, { fn })).',
  positionals: [
    { name: 'uri', description: 'dataset URI' },
    { name: 'column', description: 'the derived (embedding) column' },
  ],
  options: {
    model: {
      type: 'string',
      value: 'FILE',
      description: 'the .onnx model (path or s3:// URI; default: the one its lineage names)',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      description: 'images per model run (default 4)',
      number: integerAtLeast(1),
    },
    tokenizer: {
      type: 'string',
      value: 'MODULE',
      description: 'text columns: the tokenizer module the column was embedded with',
    },
    verify: {
      type: 'boolean',
      description:
        "also recompute rows whose stored stamp does not match their source's current bytes (reads every source sample)",
    },
    branch: BRANCH_OPTION,
    json: { ...JSON_OPTION, description: 'print the summary as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  hintFlags: { batchSize: 'batch-size' },
  examples: [
    'strata refresh ./photos.strata embedding',
    'strata refresh s3://lake/pets embedding --model s3://models/clip.onnx',
  ],
  notes: [
    'Reads of a stale value give null (the row lists the column in staleColumns); open with onStale: "error" to get CONFLICT instead.',
  ],
  async run(ctx) {
    const [uri, column] = ctx.positionals;
    const tokenizerFile = str(ctx, 'tokenizer');
    const tokenizer =
      tokenizerFile === undefined ? undefined : await (await import('../tokenizer.js')).loadTokenizer(tokenizerFile);
    const ds = await openDataset(ctx, uri, 'refresh');
    const bar = ctx.progress('refresh', 'samples');
    try {
      // loads the embedding refresher (registered by src/embed/refresh.ts)
      await import('../../embed/refresh.js');
      const model = str(ctx, 'model');
      const summary = await ds.refresh(column, {
        ...(model !== undefined ? { model } : {}),
        ...(str(ctx, 'batch-size') !== undefined ? { batchSize: int(ctx, 'batch-size', 'refresh', 4, 1) } : {}),
        ...(tokenizer ? { tokenizer } : {}),
        ...(flag(ctx, 'verify') ? { verify: true } : {}),
        signal: ctx.signal,
        onProgress: (p) => bar.update(p.done, p.total),
      });
      bar.done(summary.recomputed === 0 ? 'nothing stale' : undefined);
      if (flag(ctx, 'json')) {
        ctx.out(json(summary));
        return;
      }
      ctx.out(
        summary.recomputed === 0
          ? `${column}: no stale rows (version ${summary.version})`
          : `${column}: recomputed ${summary.recomputed} stale rows (version ${summary.version}${summary.cleared ? `, ${summary.cleared} values written by hand cleared first` : ''})`,
      );
    } catch (err) {
      bar.fail();
      throw err;
    } finally {
      await ds.close();
    }
  },
};
