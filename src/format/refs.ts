import { StrataError } from '../errors.js';
import { VERSIONS_PREFIX, versionFromKey, versionKey } from './manifest.js';
import { LATEST_KEY } from './object-keys.js';

export const BRANCHES_PREFIX = 'branches/';
export const TAGS_PREFIX = 'tags/';

/**
 * A version key space: main (`versions/`, `_latest.json`) or a branch
 * (`branches/<name>/versions/`, `branches/<name>/_latest.json`). Every branch shares the root's
 * fragments, pages, deletion files and chunks; only manifests and the hint are per ref.
 */
export interface Ref {
  /** null for main. */
  readonly branch: string | null;
  readonly versionsPrefix: string;
  readonly latestKey: string;
  versionKey(version: number): string;
  versionFromKey(key: string): number | undefined;
}

export const MAIN: Ref = {
  branch: null,
  versionsPrefix: VERSIONS_PREFIX,
  latestKey: LATEST_KEY,
  versionKey,
  versionFromKey,
};

/** The key space of branch `name` (validated). */
export function branchRef(name: string): Ref {
  validateRefName(name, 'branch');
  const root = `${BRANCHES_PREFIX}${name}/`;
  const prefix = `${root}${VERSIONS_PREFIX}`;
  return {
    branch: name,
    versionsPrefix: prefix,
    latestKey: `${root}${LATEST_KEY}`,
    versionKey: (v) => `${root}${versionKey(v)}`,
    versionFromKey: (k) => (k.startsWith(root) ? versionFromKey(k.slice(root.length)) : undefined),
  };
}

/** The ref named by a branch option: main for undefined, null or 'main'. */
export function refOf(branch: string | null | undefined): Ref {
  return branch === undefined || branch === null || branch === 'main' ? MAIN : branchRef(branch);
}

/**
 * Tag and branch names: 1–100 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit,
 * no `..`, not ending in `.` or `.lock` (one path segment: never `/`, so a name cannot reach
 * outside `tags/` or `branches/`). `main` is reserved for the main branch.
 */
export function validateRefName(name: string, kind: 'tag' | 'branch'): void {
  const bad = (why: string) =>
    new StrataError('INVALID_ARGUMENT', `${kind} name ${JSON.stringify(name)} is not allowed: ${why}`, {
      field: kind,
      hint: 'use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
    });
  if (typeof name !== 'string' || name.length === 0) throw bad('it is empty');
  if (name.length > 100) throw bad('it is longer than 100 characters');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw bad('it must be one segment of letters, digits, ".", "_", "-"');
  if (name.includes('..') || name.endsWith('.') || name.endsWith('.lock'))
    throw bad('".." or a trailing "." / ".lock"');
  if (kind === 'branch' && name === 'main') throw bad('"main" is the main branch');
}

/** "main" or "branch x", for messages. */
export function refLabel(ref: Ref): string {
  return ref.branch === null ? 'main' : `branch ${ref.branch}`;
}
