/**
 * The applied-definitions registry: `<repo>/.strata/registry/<n>.json`, one file per applied version,
 * created atomically (written to a temp file, then hard-linked to its final name, which fails if that
 * version already exists — a concurrent apply then takes the next number). Changes that would break
 * materialized data (a view's join keys, source, kind or tile; an aggregation's column, function,
 * window or filter; a feature's dtype or column) are refused unless `force` is set.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../../errors.js';
import type { ValidatedRepo } from './validate.js';
import type { FeatureView, Source } from './types.js';
import type { OnDemandView } from './on-demand.js';

export const REGISTRY_DIR = join('.strata', 'registry');

export interface RegistryContent {
  readonly version: number;
  readonly appliedAt: string;
  readonly project?: string;
  readonly entities: unknown[];
  readonly sources: unknown[];
  readonly views: FeatureView[];
  readonly services: unknown[];
  /** On-demand views (absent when the repo has none, so older registries still compare equal). */
  readonly onDemandViews?: OnDemandViewRecord[];
}

/** An on-demand view as the registry stores it: its contract, without compiled code. */
export interface OnDemandViewRecord {
  readonly name: string;
  /** Feature refs (`view:feature`) read. */
  readonly inputs: string[];
  readonly requestSchema: Readonly<Record<string, string>>;
  /** `name:dtype` and, for expression features, the expression. */
  readonly features: { readonly name: string; readonly dtype: string; readonly expr?: string }[];
  /** True when a TypeScript `transform` computes the features (its code is not stored). */
  readonly transform?: true;
  readonly description?: string;
}

export interface ApplyResult {
  /** The registry version now current. */
  readonly version: number;
  readonly path: string;
  /** False when the definitions equal the current version (no file written). */
  readonly changed: boolean;
  /** Human-readable list of what changed against the previous version. */
  readonly changes: readonly string[];
}

function sourceRecord(s: Source): unknown {
  const { table: _table, ...rest } = s;
  return { ...rest, ...(s.table ? { table: `<in-memory table, ${s.table.numRows} rows>` } : {}) };
}

/** The registry record of an on-demand view (also what `strata apply --json` prints). */
export function onDemandRecord(v: OnDemandView): OnDemandViewRecord {
  return {
    name: v.name,
    inputs: v.inputs.map((i) => i.ref),
    requestSchema: { ...v.requestSchema },
    features: v.features.map((f) => ({
      name: f.name,
      dtype: f.dtype,
      ...(f.expr !== undefined ? { expr: f.expr } : {}),
    })),
    ...(v.transform ? { transform: true as const } : {}),
    ...(v.description !== undefined ? { description: v.description } : {}),
  };
}

function body(repo: ValidatedRepo, project?: string): Omit<RegistryContent, 'version' | 'appliedAt'> {
  const byName = <T extends { name: string }>(m: ReadonlyMap<string, T>) =>
    [...m.values()].sort((a, b) => a.name.localeCompare(b.name));
  return {
    ...(project ? { project } : {}),
    entities: byName(repo.entities),
    sources: byName(repo.sources).map(sourceRecord),
    views: byName(repo.views),
    services: byName(repo.services),
    ...(repo.onDemandViews.size ? { onDemandViews: byName(repo.onDemandViews).map(onDemandRecord) } : {}),
  };
}

export async function readLatest(dir: string): Promise<RegistryContent | undefined> {
  const rdir = join(dir, REGISTRY_DIR);
  let names: string[];
  try {
    names = await readdir(rdir);
  } catch {
    return undefined;
  }
  const versions = names
    .map((n) => /^(\d+)\.json$/.exec(n)?.[1])
    .filter((x): x is string => !!x)
    .map(Number)
    .sort((a, b) => b - a);
  if (!versions.length) return undefined;
  const file = join(rdir, `${versions[0]}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RegistryContent;
  } catch (err) {
    throw new StrataError('CORRUPT', `registry file ${file} is unreadable`, {
      file,
      cause: err,
      hint: 'restore it from version control or delete it and apply again',
    });
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Breaking and non-breaking differences between two applied view sets. */
export function diffViews(
  before: readonly FeatureView[],
  after: readonly FeatureView[],
): { breaking: string[]; other: string[] } {
  const breaking: string[] = [];
  const other: string[] = [];
  const old = new Map(before.map((v) => [v.name, v]));
  for (const v of after) {
    const o = old.get(v.name);
    if (!o) {
      other.push(`view ${v.name} added`);
      continue;
    }
    old.delete(v.name);
    if (!same(o.entities, v.entities))
      breaking.push(`view ${v.name}: join keys ${o.entities.join(',')} → ${v.entities.join(',')}`);
    if (o.source !== v.source) breaking.push(`view ${v.name}: source ${o.source} → ${v.source}`);
    if (o.kind !== v.kind) breaking.push(`view ${v.name}: ${o.kind} → ${v.kind}`);
    if (o.tileMs !== v.tileMs) breaking.push(`view ${v.name}: tile ${o.tileMs}ms → ${v.tileMs}ms`);
    const oldAggs = new Map(o.aggregations.map((a) => [a.name, a]));
    for (const a of v.aggregations) {
      const p = oldAggs.get(a.name);
      if (!p) other.push(`view ${v.name}: aggregation ${a.name} added`);
      else {
        for (const f of ['column', 'function', 'window', 'where', 'n'] as const) {
          if (!same(p[f], a[f]))
            breaking.push(`view ${v.name}: ${a.name}.${f} ${JSON.stringify(p[f])} → ${JSON.stringify(a[f])}`);
        }
      }
    }
    const oldFeatures = new Map(o.features.map((f, i) => [f.name, { ...f, column: o.columns[i] }]));
    v.features.forEach((f, i) => {
      const p = oldFeatures.get(f.name);
      if (!p) other.push(`view ${v.name}: feature ${f.name} added`);
      else if (p.dtype !== f.dtype) breaking.push(`view ${v.name}: ${f.name} dtype ${p.dtype} → ${f.dtype}`);
      else if (v.kind === 'plain' && p.column !== v.columns[i])
        breaking.push(`view ${v.name}: ${f.name} column ${p.column} → ${v.columns[i]}`);
      oldFeatures.delete(f.name);
    });
    for (const f of oldFeatures.keys()) other.push(`view ${v.name}: feature ${f} removed`);
    if (o.ttlMs !== v.ttlMs) other.push(`view ${v.name}: ttl ${o.ttlMs ?? 'none'} → ${v.ttlMs ?? 'none'}`);
  }
  for (const name of old.keys()) other.push(`view ${name} removed`);
  return { breaking, other };
}

/** Differences between two applied on-demand view sets (none breaks materialized data: nothing is stored). */
export function diffOnDemandViews(
  before: readonly OnDemandViewRecord[],
  after: readonly OnDemandViewRecord[],
): string[] {
  const changes: string[] = [];
  const old = new Map(before.map((v) => [v.name, v]));
  for (const v of after) {
    const o = old.get(v.name);
    old.delete(v.name);
    if (!o) changes.push(`on-demand view ${v.name} added`);
    else if (!same(o, v)) changes.push(`on-demand view ${v.name} changed`);
  }
  for (const name of old.keys()) changes.push(`on-demand view ${name} removed`);
  return changes;
}

/** Stores the validated definitions as the next registry version. */
export async function applyRegistry(
  dir: string,
  repo: ValidatedRepo,
  options: { force?: boolean; project?: string } = {},
): Promise<ApplyResult> {
  const rdir = join(dir, REGISTRY_DIR);
  const next = body(repo, options.project);
  for (let attempt = 0; attempt < 20; attempt++) {
    const latest = await readLatest(dir);
    if (latest) {
      const { version: _v, appliedAt: _a, ...prev } = latest;
      if (same(prev, JSON.parse(JSON.stringify(next)))) {
        return { version: latest.version, path: join(rdir, `${latest.version}.json`), changed: false, changes: [] };
      }
    }
    const { breaking, other } = diffViews(latest?.views ?? [], next.views);
    other.push(...diffOnDemandViews(latest?.onDemandViews ?? [], next.onDemandViews ?? []));
    if (breaking.length && !options.force) {
      throw new StrataError(
        'CONFLICT',
        `apply refused: ${breaking.length} change(s) would break materialized data: ${breaking[0]}${breaking.length > 1 ? ', …' : ''}`,
        {
          file: join(rdir, `${latest!.version}.json`),
          hint: 'rename the view (or feature) instead, or apply with { force: true } and rematerialize',
          changes: breaking,
        },
      );
    }
    const version = (latest?.version ?? 0) + 1;
    const content: RegistryContent = { version, appliedAt: new Date().toISOString(), ...next };
    await mkdir(rdir, { recursive: true });
    const tmp = join(rdir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const path = join(rdir, `${version}.json`);
    await writeFile(tmp, JSON.stringify(content, null, 2) + '\n', { flag: 'wx' });
    try {
      await link(tmp, path);
      return { version, path, changed: true, changes: [...breaking, ...other] };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST')
        throw new StrataError('IO', `cannot write registry ${path}`, { file: path, cause: err });
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }
  throw new StrataError('CONFLICT', `registry in ${rdir} keeps changing under apply`, {
    file: rdir,
    hint: 'retry when other applies have finished',
  });
}
