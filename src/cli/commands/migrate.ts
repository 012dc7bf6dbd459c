import type { Command } from '../command.js';
import { flag } from '../command.js';
import { openOptions } from '../env.js';
import { json } from '../format.js';
import { JSON_OPTION } from '../open.js';

export const command: Command = {
  name: 'migrate',
  summary:
    'Upgrades a format v1 dataset to format v2 in place: one commit whose manifest references the v1 chunks (nothing is copied). Does nothing on a v2 dataset.',
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: { json: JSON_OPTION },
  examples: ['strata migrate ./photos.strata', 'strata migrate s3://bucket/photos.strata --json'],
  async run(ctx) {
    const uri = ctx.positionals[0];
    const { Dataset } = await import('../../dataset/dataset.js'); // loaded on use: `--help` stays fast
    const r = await Dataset.migrate(uri, { ...openOptions(uri, ctx.env), signal: ctx.signal });
    if (flag(ctx, 'json')) ctx.out(json({ uri, ...r }));
    else if (r.migrated) ctx.out(`migrated ${uri} to format v2 (version ${r.version})`);
    else ctx.out(`${uri} is already format v2 (version ${r.version}); nothing to do`);
  },
};
