import type { Command } from '../command.js';
import { flag } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'tags',
  summary: 'Lists the tags of a dataset: name, branch, version and when it was tagged.',
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: { json: JSON_OPTION },
  examples: ['strata tags ./photos.strata'],
  async run(ctx) {
    const ds = await openDataset(ctx, ctx.positionals[0], 'tags');
    try {
      const tags = await ds.tags({ signal: ctx.signal });
      if (flag(ctx, 'json')) {
        ctx.out(json({ uri: ds.uri, tags }));
        return;
      }
      ctx.out(
        table(
          ['tag', 'branch', 'version', 'time'],
          tags.map((t) => [t.name, t.branch ?? 'main', String(t.version), new Date(t.timestampMs).toISOString()]),
        ),
      );
    } finally {
      await ds.close();
    }
  },
};
