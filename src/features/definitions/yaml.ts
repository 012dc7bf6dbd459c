/**
 * YAML feature repositories: `strata.yaml` (project settings, optionally definitions) plus feature
 * files. Each file may hold `entities`, `sources`, `feature_views` (or `views`) and
 * `feature_services` (or `services`), as lists or as maps keyed by name. Keys may be snake_case or
 * camelCase. Every definition remembers its file and the line of each field, so validation errors
 * point at the YAML line.
 *
 *   # strata.yaml
 *   project: rides
 *   features: ["features/*.yaml"]   # default: every other *.yaml / *.yml under the directory
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { StrataError } from '../../errors.js';
import { setLocation } from './define.js';
import { Issues } from './issues.js';
import { parseLoggingSetting, type RepoLoggingSettings } from './logging.js';
import type { Definitions, EntityDef, FeatureServiceDef, FeatureViewDef, SourceDef } from './types.js';
import type { OnDemandViewDef } from './on-demand.js';

export const REPO_FILE = 'strata.yaml';

/** Keys whose children are user names (columns, tags), never renamed. */
const VERBATIM = new Set(['schema', 'tags', 'options', 'requestSchema', 'drift']);

const SECTIONS: Record<string, keyof Definitions> = {
  entities: 'entities',
  sources: 'sources',
  data_sources: 'sources',
  dataSources: 'sources',
  feature_views: 'views',
  featureViews: 'views',
  views: 'views',
  feature_services: 'services',
  featureServices: 'services',
  services: 'services',
  on_demand_views: 'onDemandViews',
  onDemandViews: 'onDemandViews',
  on_demand_feature_views: 'onDemandViews',
  onDemandFeatureViews: 'onDemandViews',
};
const SETTINGS = ['project', 'features', 'description', 'logging'];

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface Conv {
  lc: LineCounter;
  lines: Map<string, number>;
}

function lineOf(c: Conv, node: { range?: [number, number, number] | null } | null | undefined): number | undefined {
  const at = node?.range?.[0];
  return at === undefined ? undefined : c.lc.linePos(at).line;
}

function toJs(node: unknown, path: string, c: Conv, verbatim: boolean): unknown {
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const rawKey = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const key = verbatim ? rawKey : camel(rawKey);
      const p = path ? `${path}.${key}` : key;
      const line = lineOf(c, pair.key as Node);
      if (line) c.lines.set(p, line);
      out[key] = toJs(pair.value, p, c, VERBATIM.has(key));
    }
    return out;
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => {
      const p = `${path}[${i}]`;
      const line = lineOf(c, item as Node);
      if (line) c.lines.set(p, line);
      return toJs(item, p, c, verbatim);
    });
  }
  if (isScalar(node)) return node.value;
  return node ?? null;
}

function globRegex(glob: string): RegExp {
  const re = glob
    .split('/')
    .map((seg) =>
      seg === '**'
        ? '(?:.*/)?'
        : seg
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]') + '/',
    )
    .join('');
  return new RegExp(`^${re.replace(/\/$/, '').replace(/\(\?:\.\*\/\)\?$/, '.*')}$`);
}

async function walk(dir: string, root: string, out: string[]): Promise<void> {
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    if (ent.name.startsWith('.') || ent.name === 'node_modules') continue;
    const full = join(dir, ent.name);
    if (ent.isDirectory()) await walk(full, root, out);
    else out.push(relative(root, full).split(sep).join('/'));
  }
}

interface Parsed {
  file: string;
  lc: LineCounter;
  sections: Record<string, unknown>;
  lines: Map<string, number>;
  settingsAt: Map<string, number>;
}

async function parseFile(file: string, shownAs: string): Promise<Parsed> {
  const text = await readFile(file, 'utf8').catch((err) => {
    throw new StrataError((err as { code?: string }).code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read ${shownAs}`, {
      file: shownAs,
      cause: err,
    });
  });
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    throw new StrataError('INVALID_ARGUMENT', `${shownAs}:${line}: YAML syntax error: ${e.message.split('\n')[0]}`, {
      file: shownAs,
      line,
      hint: 'fix the YAML syntax (indentation, quotes, colons)',
    });
  }
  const conv: Conv = { lc, lines: new Map() };
  const top = doc.contents;
  if (top !== null && !isMap(top)) {
    throw new StrataError('INVALID_ARGUMENT', `${shownAs}: the top level must be a mapping`, {
      file: shownAs,
      line: 1,
      hint: 'start with keys such as entities:, sources:, feature_views:',
    });
  }
  const sections: Record<string, unknown> = {};
  const settingsAt = new Map<string, number>();
  for (const pair of top?.items ?? []) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    settingsAt.set(key, lineOf(conv, pair.key) ?? 1);
    sections[key] = pair.value;
  }
  return { file: shownAs, lc, sections, lines: conv.lines, settingsAt };
}

/** Reads the repo at `dir` into definitions (validation happens later, in one place). */
export async function loadYamlDefinitions(
  dir: string,
): Promise<{ defs: Required<Definitions>; project?: string; logging?: RepoLoggingSettings; files: string[] }> {
  const issues = new Issues();
  const main = await parseFile(join(dir, REPO_FILE), REPO_FILE);
  const settingsLoc = (key: string) => setLocation({}, { file: REPO_FILE, line: main.settingsAt.get(key) });
  const project = isScalar(main.sections.project) ? String(main.sections.project.value) : undefined;
  const logging =
    main.sections.logging === undefined
      ? undefined
      : parseLoggingSetting(
          toJs(main.sections.logging, 'logging', { lc: main.lc, lines: new Map() }, false),
          dir,
          settingsLoc('logging'),
          REPO_FILE,
          issues,
        );
  let patterns: string[] = ['**/*.yaml', '**/*.yml'];
  if (main.sections.features !== undefined) {
    const v = toJs(main.sections.features, '', { lc: new LineCounter(), lines: new Map() }, true);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) patterns = v;
    else if (typeof v === 'string') patterns = [v];
    else
      issues.add(
        settingsLoc('features'),
        REPO_FILE,
        'features',
        'features must be a list of file patterns',
        'e.g. features: ["features/*.yaml"]',
      );
  }
  const all: string[] = [];
  await walk(dir, dir, all);
  const regexes = patterns.map(globRegex);
  const files = all.filter((f) => f !== REPO_FILE && regexes.some((r) => r.test(f))).sort();
  const parsed = [main, ...(await Promise.all(files.map((f) => parseFile(join(dir, f), f))))];
  const defs = {
    entities: [] as EntityDef[],
    sources: [] as SourceDef[],
    views: [] as FeatureViewDef[],
    services: [] as FeatureServiceDef[],
    onDemandViews: [] as OnDemandViewDef[],
  };
  for (const p of parsed) {
    for (const [key, node] of Object.entries(p.sections)) {
      const section = SECTIONS[key];
      const at = setLocation({}, { file: p.file, line: p.settingsAt.get(key) });
      if (!section) {
        if (p === main && SETTINGS.includes(key)) continue;
        issues.add(
          at,
          p.file,
          key,
          `unknown top-level key ${key}`,
          `use entities, sources, feature_views, feature_services or on_demand_views${p === main ? ', or project / features' : ''}`,
        );
        continue;
      }
      const items: { node: unknown; name?: string }[] = [];
      if (isSeq(node)) for (const item of node.items) items.push({ node: item });
      else if (isMap(node)) {
        for (const pair of node.items) {
          items.push({ node: pair.value, name: isScalar(pair.key) ? String(pair.key.value) : String(pair.key) });
        }
      } else if (node !== null && node !== undefined) {
        issues.add(
          at,
          p.file,
          key,
          `${key} must be a list (or a map keyed by name)`,
          `write ${key}: followed by "- name: …" items`,
        );
        continue;
      }
      for (const it of items) {
        const conv: Conv = { lc: p.lc, lines: new Map() };
        const value = toJs(it.node, '', conv, false);
        if (!value || typeof value !== 'object' || Array.isArray(value)) {
          issues.add(
            at,
            p.file,
            key,
            `each entry of ${key} must be a mapping`,
            'write name: … and the other fields on separate lines',
          );
          continue;
        }
        const def = it.name !== undefined ? { name: it.name, ...value } : value;
        const line = lineOf(conv, it.node as Node);
        setLocation(def, { file: p.file, line, lines: conv.lines });
        (defs[section] as object[]).push(def);
      }
    }
  }
  issues.throwIfAny();
  return { defs, ...(project ? { project } : {}), ...(logging ? { logging } : {}), files: [REPO_FILE, ...files] };
}
