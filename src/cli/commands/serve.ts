import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'serve',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata serve --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata serve is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
