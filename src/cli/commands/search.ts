import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'search',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata search --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata search is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
