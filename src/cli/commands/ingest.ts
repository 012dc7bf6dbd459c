import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';

export const command: Command = {
  name: 'ingest',
  summary: 'not available yet',
  positionals: [],
  options: {},
  examples: ['strata ingest --help'],
  async run() {
    throw new StrataError('UNSUPPORTED', 'strata ingest is not available in this build', { hint: 'its backing module has not landed yet' });
  },
};
