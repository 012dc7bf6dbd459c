/**
 * Collects definition problems; each names the file, line, field and the fix. `throwIfAny` raises
 * one INVALID_ARGUMENT StrataError carrying all of them (`details.errors`), so nothing is applied
 * when any definition is invalid.
 */
import { StrataError } from '../../errors.js';
import { locate } from './define.js';

export interface DefinitionIssue {
  /** e.g. `feature view driver_stats`. */
  readonly object: string;
  readonly field: string;
  readonly message: string;
  readonly hint: string;
  readonly file?: string;
  readonly line?: number;
}

export class Issues {
  readonly list: DefinitionIssue[] = [];

  add(def: object, object: string, field: string, message: string, hint: string): void {
    const { file, line } = locate(def, field);
    this.list.push({ object, field, message, hint, ...(file ? { file } : {}), ...(line ? { line } : {}) });
  }

  get size(): number {
    return this.list.length;
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    const first = this.list[0];
    const where = first.file ? `${first.file}${first.line ? `:${first.line}` : ''}: ` : '';
    const more =
      this.list.length > 1 ? ` (and ${this.list.length - 1} more problem${this.list.length > 2 ? 's' : ''})` : '';
    throw new StrataError(
      'INVALID_ARGUMENT',
      `${where}${first.object}: ${first.field}: ${first.message}${more}; nothing was applied`,
      {
        ...(first.file ? { file: first.file } : {}),
        ...(first.line ? { line: first.line } : {}),
        field: first.field,
        hint: first.hint,
        errors: this.list,
      },
    );
  }
}

/** Closest candidate within edit distance 2 (for "did you mean"). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const s = suggest(word, candidates);
  return s ? `did you mean ${s}? ` : '';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a definition's name; returns it when usable. */
export function checkName(issues: Issues, def: object, object: string, name: unknown): string | undefined {
  if (typeof name !== 'string' || !NAME.test(name)) {
    issues.add(
      def,
      object,
      'name',
      `name ${JSON.stringify(name ?? null)} is not a valid identifier`,
      'use letters, digits and _ (not starting with a digit)',
    );
    return undefined;
  }
  return name;
}

/** Reports fields of `value` (default: the definition itself) not in `allowed`. */
export function checkFields(
  issues: Issues,
  def: object,
  object: string,
  allowed: readonly string[],
  prefix = '',
  value: object = def,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      issues.add(
        def,
        object,
        `${prefix}${key}`,
        `unknown field ${key}`,
        `${didYouMean(key, allowed)}allowed fields: ${allowed.join(', ')}`,
      );
    }
  }
}

/**
 * Whether a definition field declared as a list is one (definitions come from YAML or JSON, so it may
 * be anything). Unlike `Array.isArray`, which narrows to `any[]`, this keeps the declared element
 * type; the caller still checks each element.
 */
export function isList<T>(value: readonly T[] | undefined): value is readonly T[] {
  return Array.isArray(value);
}
