import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'view',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata view --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata view is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
