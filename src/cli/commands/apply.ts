import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'apply',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata apply --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata apply is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
