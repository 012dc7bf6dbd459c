import type { Command } from '../command.js';
import { flag, str } from '../command.js';
import { json } from '../format.js';
import { BRANCH_OPTION, JSON_OPTION, VERSION_OPTION, openDataset } from '../open.js';

export const command: Command = {
  name: 'tag',
  summary: 'Names a version of a dataset (default: the latest of main), or deletes a tag with --delete.',
  positionals: [
    { name: 'uri', description: 'dataset URI' },
    { name: 'name', description: 'tag name (letters, digits, ".", "_", "-")' },
  ],
  options: {
    version: { ...VERSION_OPTION, description: 'the version to tag (default: latest)' },
    branch: BRANCH_OPTION,
    delete: { type: 'boolean', description: 'delete the tag instead' },
    json: JSON_OPTION,
  },
  examples: ['strata tag ./photos.strata v1-release --version 3', 'strata tag ./photos.strata v1-release --delete'],
  notes: ['Tagged versions are never deleted by vacuum; delete the tag to let vacuum collect them.'],
  async run(ctx) {
    const [uri, name] = ctx.positionals;
    const ds = await openDataset(ctx, uri, 'tag');
    try {
      if (flag(ctx, 'delete')) {
        await ds.deleteTag(name, { signal: ctx.signal });
        ctx.out(flag(ctx, 'json') ? json({ deleted: name }) : `deleted tag ${name}`);
        return;
      }
      const tag = await ds.tag(name, ds.version, { signal: ctx.signal });
      const where = str(ctx, 'branch') ? ` of branch ${tag.branch}` : '';
      ctx.out(flag(ctx, 'json') ? json(tag) : `tagged version ${tag.version}${where} as ${tag.name}`);
    } finally {
      await ds.close();
    }
  },
};
