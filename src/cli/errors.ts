/**
 * Turning any error into what the CLI prints: one line `strata: CODE: message (hint)`, followed by
 * one indented line per problem when the error lists several (feature definitions), the exit code,
 * and the same as a JSON document for `--json`. Hints are rewritten for the command line (hints.ts).
 */
import { isStrataError } from '../errors.js';
import { type Command, UsageError } from './command.js';
import { cliHint } from './hints.js';

export interface CliFailure {
  /** The error line (starts with `strata: `). */
  readonly line: string;
  /** One line per problem (indented), when the error carries a list. */
  readonly problems: readonly string[];
  readonly exitCode: number;
  /** For `--json`: `{ error: { code, message, hint?, problems? } }`. */
  readonly json: { readonly error: Record<string, unknown> };
}

/** A problem as errors carry it in `details.errors` (see features/issues.ts). */
interface Problem {
  readonly object?: string;
  readonly field?: string;
  readonly message?: string;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
}

export function describeFailure(err: unknown, cmd?: Command): CliFailure {
  if (isStrataError(err)) {
    const hint = typeof err.details.hint === 'string' ? err.details.hint : undefined;
    const suffix = hint === undefined ? '' : ` (${hint})`;
    let message =
      hint !== undefined && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
    const shownHint = hint === undefined ? undefined : err instanceof UsageError ? hint : cliHint(hint, cmd);
    const list = Array.isArray(err.details.errors) ? (err.details.errors as Problem[]) : [];
    const problems = list.length > 1 ? list.map((p) => `  ${problemText(p, cmd)}`) : [];
    if (problems.length)
      message = `${list.length} problems (listed below)${/nothing was applied/.test(message) ? '; nothing was applied' : ''}`;
    const line = `strata: ${oneLine(`${err.code}: ${message}${problems.length || shownHint === undefined ? '' : ` (${shownHint})`}`)}`;
    return {
      line,
      problems,
      exitCode: err instanceof UsageError ? 2 : 1,
      json: {
        error: {
          code: err.code,
          message: oneLine(message),
          ...(shownHint !== undefined && !problems.length ? { hint: shownHint } : {}),
          ...(list.length
            ? { problems: list.map((p) => ({ ...p, ...(p.hint ? { hint: cliHint(p.hint, cmd) } : {}) })) }
            : {}),
        },
      },
    };
  }
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
    const hint = e.code === 'EADDRINUSE' ? 'choose another --port, or 0 for any free port' : undefined;
    return plainFailure(code, oneLine(e.message), hint);
  }
  const message = err instanceof Error ? err.message : String(err);
  return plainFailure(
    'INTERNAL',
    oneLine(message),
    'this is a bug in Strata; please report it with the command you ran',
  );
}

function plainFailure(code: string, message: string, hint: string | undefined): CliFailure {
  return {
    line: `strata: ${code}: ${message}${hint ? ` (${hint})` : ''}`,
    problems: [],
    exitCode: 1,
    json: { error: { code, message, ...(hint ? { hint } : {}) } },
  };
}

/** `strata.yaml:12: feature view x: aggregations[0].function: unknown function countt (hint)`. */
function problemText(p: Problem, cmd: Command | undefined): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '';
  const what = [p.object, p.field].filter(Boolean).join(': ');
  const hint = p.hint ? ` (${cliHint(p.hint, cmd)})` : '';
  return oneLine(`${where}${what ? `${what}: ` : ''}${p.message ?? ''}${hint}`);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
