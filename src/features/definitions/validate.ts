/**
 * Turns definitions (TypeScript or YAML) into validated objects. Every problem is collected; if there
 * is any, one INVALID_ARGUMENT error lists them all (file, line, field, fix) and nothing is returned.
 */
import { categoryOf } from './dtypes.js';
import { checkFields, checkName, didYouMean, Issues } from './issues.js';
import type {
  Definitions,
  TableDtype,
  Entity,
  FeatureService,
  FeatureServiceDef,
  FeatureView,
  Source,
} from './types.js';
import { validateEntities, validateSources, type ColumnReader } from './validate-sources.js';
import { validateView } from './validate-views.js';
import { validateOnDemandViews, type OnDemandView } from './on-demand.js';

export interface ValidatedRepo {
  readonly entities: ReadonlyMap<string, Entity>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly views: ReadonlyMap<string, FeatureView>;
  readonly services: ReadonlyMap<string, FeatureService>;
  readonly onDemandViews: ReadonlyMap<string, OnDemandView>;
}

const SERVICE_FIELDS = ['name', 'features', 'description'];

function validateServices(
  issues: Issues,
  defs: readonly FeatureServiceDef[],
  views: ReadonlyMap<string, { readonly name: string; readonly features: readonly { readonly name: string }[] }>,
  knownViews: Set<string>,
): Map<string, FeatureService> {
  const out = new Map<string, FeatureService>();
  for (const def of defs) {
    if (!def || typeof def !== 'object') continue;
    const obj = `feature service ${def.name ?? '?'}`;
    checkFields(issues, def, obj, SERVICE_FIELDS);
    const name = checkName(issues, def, obj, def.name);
    if (!name) continue;
    if (out.has(name)) {
      issues.add(def, obj, 'name', `duplicate feature service name ${name}`, 'give each service a unique name');
      continue;
    }
    if (!Array.isArray(def.features) || def.features.length === 0) {
      issues.add(
        def,
        obj,
        'features',
        'a feature service needs a list of features',
        'e.g. features: ["driver_stats:conv_rate", "driver_aggs"]',
      );
      continue;
    }
    const refs: string[] = [];
    let ok = true;
    def.features.forEach((ref, i) => {
      const [viewName, feature] = String(ref).split(':', 2);
      const view = views.get(viewName);
      if (!view) {
        if (!knownViews.has(viewName)) {
          issues.add(
            def,
            obj,
            `features[${i}]`,
            `unknown feature view ${viewName}`,
            `${didYouMean(viewName, [...knownViews])}defined views: ${[...knownViews].join(', ') || '(none)'}`,
          );
        }
        ok = false;
        return;
      }
      if (feature === undefined) refs.push(...view.features.map((f) => `${view.name}:${f.name}`));
      else if (!view.features.some((f) => f.name === feature)) {
        issues.add(
          def,
          obj,
          `features[${i}]`,
          `view ${viewName} has no feature ${feature}`,
          `${didYouMean(
            feature,
            view.features.map((f) => f.name),
          )}features: ${view.features.map((f) => f.name).join(', ')}`,
        );
        ok = false;
      } else refs.push(`${viewName}:${feature}`);
    });
    if (ok) out.set(name, { name, features: refs, ...(def.description ? { description: def.description } : {}) });
  }
  return out;
}

/** Validates everything; throws INVALID_ARGUMENT listing every problem. */
export async function validateDefinitions(
  defs: Required<Definitions>,
  dir: string,
  readColumns: ColumnReader,
): Promise<ValidatedRepo> {
  const issues = new Issues();
  const entities = validateEntities(issues, defs.entities);
  const sources = await validateSources(issues, defs.sources, dir, readColumns);
  const views = new Map<string, FeatureView>();
  const taken = new Set<string>();
  for (const def of defs.views) {
    if (!def || typeof def !== 'object') continue;
    const v = validateView({ issues, entities, sources }, def, taken);
    if (v) views.set(v.name, { ...v, keyDtypes: keyDtypesOf(v, entities, sources) });
  }
  // an entity's key must have one type across every source that feeds it
  const keyTypes = new Map<string, { cat: string; source: string }>();
  for (const def of defs.views) {
    const v = views.get(def?.name);
    if (!v) continue;
    const cols = sources.get(v.source)?.columns;
    if (!cols) continue;
    v.entityNames.forEach((en, i) => {
      for (const k of entities.get(en)?.joinKeys ?? []) {
        if (!(k in cols)) continue;
        const cat = categoryOf(cols[k]);
        const seen = keyTypes.get(`${en}.${k}`);
        if (!seen) keyTypes.set(`${en}.${k}`, { cat, source: v.source });
        else if (seen.cat !== cat) {
          issues.add(
            def,
            `feature view ${v.name}`,
            `entities[${i}]`,
            `entity ${en} key ${k} is ${cols[k]} in source ${v.source} but ${seen.cat} in source ${seen.source}`,
            `give ${k} one type everywhere (or declare valueType on the entity)`,
          );
        }
      }
    });
  }
  const onDemandViews = validateOnDemandViews(issues, defs.onDemandViews ?? [], views, taken);
  const services = validateServices(
    issues,
    defs.services,
    new Map<string, { name: string; features: readonly { name: string }[] }>([...views, ...onDemandViews]),
    taken,
  );
  issues.throwIfAny();
  return { entities, sources, views, services, onDemandViews };
}

/** Join key → dtype: the entity's valueType, else the view source's column dtype (where known). */
function keyDtypesOf(
  view: FeatureView,
  entities: ReadonlyMap<string, Entity>,
  sources: ReadonlyMap<string, Source>,
): Record<string, TableDtype> {
  const out: Record<string, TableDtype> = {};
  const columns = sources.get(view.source)?.columns;
  for (const en of view.entityNames) {
    const e = entities.get(en);
    for (const k of e?.joinKeys ?? []) {
      const dt = e?.valueType ?? columns?.[k];
      if (dt) out[k] = dt;
    }
  }
  return out;
}
