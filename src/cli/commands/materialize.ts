import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'materialize',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata materialize --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata materialize is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
