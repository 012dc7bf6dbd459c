/**
 * Plans of on-demand requests (get.ts): per distinct feature list, the stored refs to read (asked
 * for, plus the on-demand inputs), the inner read's plan, where each input and output is, and the
 * views' request fields, resolved once and cached per repo index (a repo whose views change gets new
 * plans).
 */
import { StrataError } from '../errors.js';
import type { OnDemandView } from '../features/definitions/on-demand.js';
import type { GetOnlineFeaturesOptions } from './read.js';
import { readPlanFor, type ReadPlan } from './read-plan.js';
import { indexRepo, type RepoIndex } from './repo-index.js';
import type { NamedCollection, OnlineRepo } from './types.js';

/** One output column: a stored feature (its index among the inner read's columns) or an on-demand one. */
export type Output =
  | { readonly name: string; readonly stored: string; index: number }
  | { readonly name: string; readonly view: OnDemandView; readonly feature: string; index: number };

/** An asked on-demand view: the features asked of it and where its inputs are in the inner read. */
export interface OdViewPlan {
  readonly view: OnDemandView;
  readonly names: readonly string[];
  /** Per input: its column index in the inner read. */
  readonly inputIndex: readonly number[];
  readonly requestFields: readonly string[];
  /** `view:feature` of each name. */
  readonly refs: readonly string[];
  /** Index of this view's first output in the computed columns. */
  readonly firstComputed: number;
}

export interface OdPlan {
  /** Refs read from the store (asked for, plus the on-demand inputs), same array every time. */
  readonly stored: readonly string[];
  /** The inner read's plan (stored refs, full names), resolved with the plan. */
  readonly inner: ReadPlan | null;
  readonly outputs: readonly Output[];
  readonly views: readonly OdViewPlan[];
  /** Request fields of the asked views that are not join keys (removed from `entities` when passed there). */
  readonly requestFields: ReadonlySet<string>;
}

/** Per on-demand view collection: the repo index the plans were resolved against, and the plans by key. */
const plans = new WeakMap<object, { index: RepoIndex; byKey: Map<string, OdPlan | null> }>();

function byName(c: NamedCollection<OnDemandView>): Map<string, OnDemandView> {
  if (Array.isArray(c)) return new Map((c as readonly OnDemandView[]).map((v) => [v.name, v]));
  if (c instanceof Map) return c as Map<string, OnDemandView>;
  return new Map(Object.entries(c as Record<string, OnDemandView>));
}

export function planFor(repo: OnlineRepo, options: GetOnlineFeaturesOptions, key: string): OdPlan | null {
  const coll = repo.onDemandViews!;
  const index = indexRepo(repo);
  let cache = plans.get(coll);
  if (cache?.index !== index) plans.set(coll, (cache = { index, byKey: new Map<string, OdPlan | null>() }));
  const hit = cache.byKey.get(key);
  if (hit !== undefined) return hit;
  if (cache.byKey.size >= 256) cache.byKey.clear();
  const plan = buildPlan(repo, options, index);
  cache.byKey.set(key, plan);
  return plan;
}

function buildPlan(repo: OnlineRepo, options: GetOnlineFeaturesOptions, index: RepoIndex): OdPlan | null {
  const full = options.fullFeatureNames ?? false;
  const od = byName(repo.onDemandViews!);
  const refs =
    options.features ?? (options.featureService !== undefined ? index.services.get(options.featureService) : undefined);
  if (!refs || !refs.some((r) => od.has(r.split(':', 1)[0]))) return null;
  const stored: string[] = [];
  const outputs: Output[] = [];
  const views = new Map<OnDemandView, string[]>();
  const storedRef = (ref: string): string => {
    if (!stored.includes(ref)) stored.push(ref);
    return ref.replace(':', '__');
  };
  for (const ref of refs) {
    const [name, feature] = ref.split(':', 2);
    const v = od.get(name);
    if (!v) {
      const whole = feature === undefined ? index.views.get(name) : undefined;
      const expanded = whole ? whole.view.features.map((f) => `${name}:${f.name}`) : [ref];
      for (const r of expanded)
        outputs.push({ name: full ? r.replace(':', '__') : r.split(':')[1], stored: storedRef(r), index: -1 });
      continue;
    }
    const names = feature === undefined ? v.features.map((f) => f.name) : [feature];
    for (const f of names) {
      if (!v.features.some((x) => x.name === f)) {
        throw new StrataError('NOT_FOUND', `feature ${name}:${f} does not exist in on-demand view ${name}`, {
          key: ref,
          hint: `features of ${name}: ${v.features.map((x) => x.name).join(', ')}`,
        });
      }
      const list = views.get(v) ?? [];
      if (!list.includes(f)) list.push(f);
      views.set(v, list);
      outputs.push({ name: full ? `${name}__${f}` : f, view: v, feature: f, index: -1 });
    }
  }
  for (const v of views.keys()) for (const input of v.inputs) storedRef(input.ref);
  const seen = new Set<string>();
  for (const o of outputs) {
    if (seen.has(o.name)) {
      throw new StrataError('INVALID_ARGUMENT', `two requested features come out as column ${o.name}`, {
        field: 'features',
        key: o.name,
        hint: 'ask for each feature once, or set fullFeatureNames (full_feature_names) to true',
      });
    }
    seen.add(o.name);
  }
  const joinKeys = new Set([...index.views.values()].flatMap((v) => v.view.entities));
  const requestFields = new Set(
    [...views.keys()].flatMap((v) => Object.keys(v.requestSchema)).filter((f) => !joinKeys.has(f)),
  );
  // resolved now, once: a bad stored ref is NOT_FOUND here, as the inner read would say
  const inner = stored.length ? readPlanFor(repo, { entities: {}, features: stored, fullFeatureNames: true }) : null;
  const innerIndex = (name: string): number => inner!.columns.findIndex((c) => c.name === name);
  const viewPlans: OdViewPlan[] = [];
  let firstComputed = 0;
  for (const [view, names] of views) {
    viewPlans.push({
      view,
      names,
      inputIndex: view.inputs.map((i) => innerIndex(`${i.view}__${i.feature}`)),
      requestFields: Object.keys(view.requestSchema),
      refs: names.map((n) => `${view.name}:${n}`),
      firstComputed,
    });
    firstComputed += names.length;
  }
  for (const o of outputs) {
    if ('stored' in o) o.index = innerIndex(o.stored);
    else {
      const vp = viewPlans.find((p) => p.view === o.view)!;
      o.index = vp.firstComputed + vp.names.indexOf(o.feature);
    }
  }
  return { stored, inner, outputs, views: viewPlans, requestFields };
}
