#!/usr/bin/env node
/** `strata` entry point: runs the command, then exits with its code (after stdout/stderr drain). */
import { closeInferenceCache } from '../embed/inference-cache.js';
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2));
// inference workers kept for a next embed job in this process: release their sessions before exiting
await closeInferenceCache();
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);

function flush(s: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
}
