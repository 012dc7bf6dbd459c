/** Opening a dataset from a CLI argument (env options, optional `--version` and `--branch`). */
import type { Dataset } from '../dataset/dataset.js';
import { type CommandContext, int, str } from './command.js';
import { openOptions } from './env.js';

export const VERSION_OPTION = {
  type: 'string',
  value: 'N',
  description: 'open this version (default: latest)',
  number: { integer: true, min: 0 },
} as const;
export const BRANCH_OPTION = {
  type: 'string',
  value: 'NAME',
  description: 'open this branch (default: main)',
} as const;
export const JSON_OPTION = { type: 'boolean', description: 'print JSON (one document) instead of text' } as const;

export async function openDataset(ctx: CommandContext, uri: string, command: string): Promise<Dataset> {
  const version = ctx.values.version === undefined ? undefined : int(ctx, 'version', command, 0, 0);
  const branch = str(ctx, 'branch');
  const { Dataset } = await import('../dataset/dataset.js'); // loaded on use: `--help` stays fast
  return Dataset.open(uri, {
    ...openOptions(uri, ctx.env),
    ...(version === undefined ? {} : { version }),
    ...(branch === undefined ? {} : { branch }),
    signal: ctx.signal,
  });
}
