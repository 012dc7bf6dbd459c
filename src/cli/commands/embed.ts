import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'embed',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata embed --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata embed is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
