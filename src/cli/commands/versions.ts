import type { Command } from '../command.js';
import { flag } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'versions',
  summary: 'Lists the versions of a dataset, oldest first: number, commit time, rows and message.',
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: { json: JSON_OPTION },
  examples: ['strata versions ./photos.strata', 'strata head ./photos.strata --version 2   # open an older version'],
  async run(ctx) {
    const ds = await openDataset(ctx, ctx.positionals[0], 'versions');
    try {
      const versions = await ds.versions({ signal: ctx.signal });
      if (flag(ctx, 'json')) {
        const list = versions.map((v) =>
          v.error ? { version: v.version, error: { code: v.error.code, message: v.error.message } } : v,
        );
        ctx.out(json({ uri: ds.uri, latest: ds.version, versions: list }));
        return;
      }
      ctx.out(
        table(
          ['version', 'time', 'rows', 'message'],
          versions.map((v) =>
            v.error
              ? [String(v.version), '-', '-', `DAMAGED ${v.error.code}: ${v.error.message}`]
              : [String(v.version), new Date(v.timestampMs).toISOString(), String(v.length), v.message],
          ),
        ),
      );
    } finally {
      await ds.close();
    }
  },
};
