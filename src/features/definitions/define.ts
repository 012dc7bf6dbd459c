/**
 * TypeScript definitions: `defineEntity`, `defineSource`, `defineFeatureView`, `defineFeatureService`.
 * Each returns a frozen copy tagged with its kind and the caller's file and line, so validation
 * errors point at the `define…` call the same way YAML errors point at the YAML line.
 */
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../errors.js';
import type { Definitions, EntityDef, FeatureServiceDef, FeatureViewDef, SourceDef } from './types.js';
import type { OnDemandViewDef } from './on-demand.js';

export const DEF_KINDS = ['entity', 'source', 'view', 'service', 'onDemandView'] as const;
export type DefKind = (typeof DEF_KINDS)[number];

const KIND = Symbol.for('strata.features.defKind');
const LOCATION = Symbol.for('strata.features.location');

/** Where a definition was written: a file, the line of the definition, and lines per field path. */
export interface DefLocation {
  readonly file?: string;
  readonly line?: number;
  /** Field path (`aggregations[1].window`) → line. */
  readonly lines?: ReadonlyMap<string, number>;
}

export function setLocation<T extends object>(def: T, loc: DefLocation): T {
  Object.defineProperty(def, LOCATION, { value: loc, enumerable: false });
  return def;
}

export function getLocation(def: object): DefLocation | undefined {
  return (def as Record<symbol, DefLocation | undefined>)[LOCATION];
}

/** File and line of a field (or its nearest parent) of a definition. */
export function locate(def: object, field?: string): { file?: string; line?: number } {
  const loc = getLocation(def);
  if (!loc) return {};
  let path = field;
  while (path && loc.lines) {
    const line = loc.lines.get(path);
    if (line !== undefined) return { file: loc.file, line };
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    path = cut > 0 ? path.slice(0, cut) : undefined;
  }
  return { file: loc.file, line: loc.line };
}

export function defKindOf(def: object): DefKind | undefined {
  return (def as Record<symbol, DefKind | undefined>)[KIND];
}

/** This module's own frames are skipped: the location is the caller's `define…` call. */
const SELF_URL = import.meta.url;
const SELF_PATH = fileURLToPath(import.meta.url);

function callerLocation(): DefLocation {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const frame of stack) {
    if (frame.includes(SELF_URL) || frame.includes(SELF_PATH)) continue;
    const m = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):\d+\)?\s*$/.exec(frame);
    if (m && !m[1].startsWith('node:')) return { file: m[1].replace(/^file:\/\//, ''), line: Number(m[2]) };
  }
  return {};
}

function tag<T extends object>(kind: DefKind, def: T): T {
  if (!def || typeof def !== 'object') {
    throw new StrataError('INVALID_ARGUMENT', `define${kind}: expected a definition object`, { field: kind });
  }
  const copy = { ...def };
  Object.defineProperty(copy, KIND, { value: kind, enumerable: false });
  setLocation(copy, getLocation(def) ?? callerLocation());
  return Object.freeze(copy);
}

/** An entity: the thing features describe, identified by one or more join keys (default `[name]`). */
export function defineEntity(def: EntityDef): EntityDef {
  return tag('entity', def);
}

/** A source: where events come from (parquet/csv/jsonl/arrow files, push, dataset, in-memory table). */
export function defineSource(def: SourceDef): SourceDef {
  return tag('source', def);
}

/** A feature view: plain (latest value per entity, with ttl) or with `aggregations` over windows. */
export function defineFeatureView(def: FeatureViewDef): FeatureViewDef {
  return tag('view', def);
}

/** A feature service: a named list of `view:feature` refs for one model. */
export function defineFeatureService(def: FeatureServiceDef): FeatureServiceDef {
  return tag('service', def);
}

/**
 * An on-demand view: features computed per request from request data and other views' features,
 * by `expr` (e.g. `cosine(user_emb, item_emb)`) or a `transform` function — the same code online and
 * in training sets.
 */
export function defineOnDemandView(def: OnDemandViewDef): OnDemandViewDef {
  return tag('onDemandView', def);
}

/** Groups a flat list of `define…` results (or passes a grouped object through). */
export function groupDefinitions(defs: Definitions | readonly object[]): Required<Definitions> {
  if (!Array.isArray(defs)) {
    const d = defs as Definitions;
    return {
      entities: d.entities ?? [],
      sources: d.sources ?? [],
      views: d.views ?? [],
      services: d.services ?? [],
      onDemandViews: d.onDemandViews ?? [],
    };
  }
  const out = {
    entities: [] as EntityDef[],
    sources: [] as SourceDef[],
    views: [] as FeatureViewDef[],
    services: [] as FeatureServiceDef[],
    onDemandViews: [] as OnDemandViewDef[],
  };
  (defs as readonly object[]).forEach((d, i) => {
    const kind = d && typeof d === 'object' ? defKindOf(d) : undefined;
    if (kind === 'entity') out.entities.push(d as EntityDef);
    else if (kind === 'source') out.sources.push(d as SourceDef);
    else if (kind === 'view') out.views.push(d as FeatureViewDef);
    else if (kind === 'service') out.services.push(d as FeatureServiceDef);
    else if (kind === 'onDemandView') out.onDemandViews.push(d as OnDemandViewDef);
    else {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `definition #${i} was not made by defineEntity/defineSource/defineFeatureView/defineFeatureService`,
        {
          row: i,
          hint: 'wrap it in the matching define… call, or pass { entities, sources, views, services }',
        },
      );
    }
  });
  return out;
}
