/** Opening a dataset from a CLI argument (env options, optional `--version`). */
import type { Dataset } from '../dataset/dataset.js';
import { type CommandContext, int } from './command.js';
import { openOptions } from './env.js';

export const VERSION_OPTION = {
  type: 'string',
  value: 'N',
  description: 'open this version (default: latest)',
  number: { integer: true, min: 0 },
} as const;
export const JSON_OPTION = { type: 'boolean', description: 'print JSON (one document) instead of text' } as const;

export async function openDataset(ctx: CommandContext, uri: string, command: string): Promise<Dataset> {
  const version = ctx.values.version === undefined ? undefined : int(ctx, 'version', command, 0, 0);
  const { Dataset } = await import('../dataset/dataset.js'); // loaded on use: `--help` stays fast
  return Dataset.open(uri, {
    ...openOptions(uri, ctx.env),
    ...(version === undefined ? {} : { version }),
    signal: ctx.signal,
  });
}
