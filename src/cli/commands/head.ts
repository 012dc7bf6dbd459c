import type { Command } from '../command.js';
import { UsageError, flag, int, integerAtLeast, str } from '../command.js';
import { json } from '../format.js';
import { JSON_OPTION, VERSION_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'head',
  summary:
    'Prints the first rows of a dataset like a DataFrame. Media show as <image 640×480×3 jpeg>; nothing is decoded.',
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: {
    n: { type: 'string', short: 'n', value: 'N', description: 'rows to print (default 5)', number: integerAtLeast(0) },
    columns: { type: 'string', short: 'c', value: 'A,B', description: 'only these columns (comma-separated)' },
    json: { ...JSON_OPTION, description: 'print one JSON object per row (JSON Lines); media as {kind, shape, format}' },
    version: VERSION_OPTION,
  },
  examples: [
    'strata head ./photos.strata -n 10 --columns image,label',
    'strata head s3://bucket/photos --json | jq .label',
  ],
  async run(ctx) {
    const n = int(ctx, 'n', 'head', 5, 0);
    let ds = await openDataset(ctx, ctx.positionals[0], 'head');
    try {
      const cols = str(ctx, 'columns');
      if (cols !== undefined) {
        const list = cols
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
        if (list.length === 0) throw new UsageError('strata head: --columns is empty', 'head');
        ds = ds.select(list);
      }
      const view = ds.head(n);
      if (flag(ctx, 'json')) {
        for await (const batch of view.iterRows({ batchSize: 256, signal: ctx.signal }))
          for (const row of batch) ctx.out(json(row));
        return;
      }
      ctx.out(ds.toString());
      ctx.out(await view.format({ rows: n, signal: ctx.signal }));
    } finally {
      await ds.close();
    }
  },
};
