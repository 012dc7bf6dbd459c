/** Turning any error into the CLI's one line: `strata: CODE: message (hint)`, and its exit code. */
import { isStrataError } from '../errors.js';
import { UsageError } from './command.js';

export interface CliFailure {
  readonly line: string;
  readonly exitCode: number;
}

export function describeFailure(err: unknown): CliFailure {
  if (err instanceof UsageError) return { line: `strata: ${oneLine(err.toLine())}`, exitCode: 2 };
  if (isStrataError(err)) return { line: `strata: ${oneLine(err.toLine())}`, exitCode: 1 };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    const code =
      e.code === 'ENOENT'
        ? 'NOT_FOUND'
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? 'UNAUTHORIZED'
          : e.code === 'EADDRINUSE'
            ? 'CONFLICT'
            : 'IO';
    const hint = e.code === 'EADDRINUSE' ? ' (choose another --port, or 0 for any free port)' : '';
    return { line: `strata: ${code}: ${oneLine(e.message)}${hint}`, exitCode: 1 };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    line: `strata: INTERNAL: ${oneLine(message)} (this is a bug in Strata; please report it with the command you ran)`,
    exitCode: 1,
  };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
