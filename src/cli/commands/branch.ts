import type { Command } from '../command.js';
import { UsageError, flag, str } from '../command.js';
import { json, table } from '../format.js';
import { BRANCH_OPTION, JSON_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'branch',
  summary:
    'Creates a branch of a dataset (from the latest version, --from a version or tag), lists branches without a name, or deletes one with --delete.',
  positionals: [
    { name: 'uri', description: 'dataset URI' },
    { name: 'name', description: 'branch name (letters, digits, ".", "_", "-"; not main)', required: false },
  ],
  options: {
    from: { type: 'string', value: 'V|TAG', description: 'a version number or a tag to branch from (default: latest)' },
    branch: { ...BRANCH_OPTION, description: 'the branch to branch from (default: main)' },
    delete: { type: 'boolean', description: 'delete the branch instead' },
    json: JSON_OPTION,
  },
  examples: ['strata branch ./photos.strata relabel --from 3', 'strata branch ./photos.strata   # list branches'],
  notes: ['Commits on a branch never move main; merge with ds.mergeBranch(name) from the library.'],
  async run(ctx) {
    const [uri, name] = ctx.positionals;
    const ds = await openDataset(ctx, uri, 'branch');
    try {
      if (name === undefined) {
        const branches = await ds.branches({ signal: ctx.signal });
        if (flag(ctx, 'json')) {
          ctx.out(json({ uri: ds.uri, branches }));
          return;
        }
        ctx.out(
          table(
            ['branch', 'version', 'from', 'time'],
            branches.map((b) => [
              b.name,
              String(b.version),
              `${b.origin.branch ?? 'main'}@${b.origin.version}`,
              new Date(b.timestampMs).toISOString(),
            ]),
          ),
        );
        return;
      }
      if (flag(ctx, 'delete')) {
        await ds.deleteBranch(name, { signal: ctx.signal });
        ctx.out(flag(ctx, 'json') ? json({ deleted: name }) : `deleted branch ${name}`);
        return;
      }
      const raw = str(ctx, 'from');
      if (raw !== undefined && raw.trim() === '')
        throw new UsageError('strata branch: --from needs a version or a tag', 'branch');
      const from = raw === undefined ? undefined : /^\d+$/.test(raw) ? Number(raw) : raw;
      const b = await ds.branch(name, { from, signal: ctx.signal });
      const info = { name, version: b.version, length: b.length };
      ctx.out(flag(ctx, 'json') ? json(info) : `created branch ${name} (${b.length} rows)`);
      await b.close();
    } finally {
      await ds.close();
    }
  },
};
