/**
 * `getOnlineFeatures`: stored features (read.ts) plus on-demand views, computed from the request data
 * and the stored features they read, by the same evaluator training sets use
 * (features/retrieval/on-demand-eval.ts). Bad request data is INVALID_ARGUMENT naming the field; a
 * row whose computation fails is that cell's status (`NOT_FOUND` for a missing input, `INVALID` for an
 * error), never a failed request.
 */
import { StrataError } from '../errors.js';
import type { OnDemandView } from '../features/definitions/on-demand.js';
import { CELL_ERROR, evaluateOnDemand, requestColumn } from '../features/retrieval/on-demand-eval.js';
import { countRows, logAnswer, readOnlineFeatures, type GetOnlineFeaturesOptions } from './read.js';
import { indexRepo } from './repo-index.js';
import { OnlineFeatures, type FeatureColumn, type FeatureStatus } from './result.js';
import type { OnlineStore } from './store.js';
import type { NamedCollection, OnlineRepo } from './types.js';

/** One output column: a stored feature (by its full name in the inner read) or an on-demand one. */
type Output =
  | { readonly name: string; readonly stored: string }
  | { readonly name: string; readonly view: OnDemandView; readonly feature: string };

interface OdPlan {
  /** Refs read from the store (asked for, plus the on-demand inputs), same array every time. */
  readonly stored: readonly string[];
  readonly outputs: readonly Output[];
  readonly views: ReadonlyMap<OnDemandView, string[]>;
  /** Request fields of the asked views that are not join keys (removed from `entities` when passed there). */
  readonly requestFields: ReadonlySet<string>;
}

const plans = new WeakMap<object, Map<string, OdPlan | null>>();

function byName(c: NamedCollection<OnDemandView>): Map<string, OnDemandView> {
  if (Array.isArray(c)) return new Map((c as readonly OnDemandView[]).map((v) => [v.name, v]));
  if (c instanceof Map) return c as Map<string, OnDemandView>;
  return new Map(Object.entries(c as Record<string, OnDemandView>));
}

function planFor(repo: OnlineRepo, options: GetOnlineFeaturesOptions): OdPlan | null {
  const coll = repo.onDemandViews!;
  const full = options.fullFeatureNames ?? false;
  const key = `${full ? 'F' : 'S'}${options.features?.join('\u0001') ?? '\u0002' + (options.featureService ?? '')}`;
  let cache = plans.get(coll);
  if (cache?.has(key)) return cache.get(key)!;
  if (!cache) plans.set(coll, (cache = new Map<string, OdPlan | null>()));
  if (cache.size >= 256) cache.clear();
  const od = byName(coll);
  const index = indexRepo(repo);
  const refs =
    options.features ?? (options.featureService !== undefined ? index.services.get(options.featureService) : undefined);
  let plan: OdPlan | null = null;
  if (refs && refs.some((r) => od.has(r.split(':', 1)[0]))) {
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
          outputs.push({ name: full ? r.replace(':', '__') : r.split(':')[1], stored: storedRef(r) });
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
        outputs.push({ name: full ? `${name}__${f}` : f, view: v, feature: f });
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
    plan = { stored, outputs, views, requestFields };
  }
  cache.set(key, plan);
  return plan;
}

/** By cell kind (CELL_VALUE, CELL_NULL, CELL_MISSING, CELL_ERROR). */
const STATUS: readonly FeatureStatus[] = ['PRESENT', 'NULL_VALUE', 'NOT_FOUND', 'INVALID'];

export function getOnlineFeatures(
  repo: OnlineRepo,
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
): Promise<OnlineFeatures> {
  let plan: OdPlan | null;
  try {
    plan = repo.onDemandViews ? planFor(repo, options) : null;
  } catch (err) {
    return Promise.reject(err);
  }
  // no on-demand refs: straight to the stored features (no extra promise hop)
  return plan ? withOnDemand(repo, store, options, plan) : readOnlineFeatures(repo, store, options);
}

async function withOnDemand(
  repo: OnlineRepo,
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
  plan: OdPlan,
): Promise<OnlineFeatures> {
  const given = options.entities;
  let entities = given;
  if (
    plan.requestFields.size &&
    given &&
    typeof given === 'object' &&
    Object.keys(given).some((k) => plan.requestFields.has(k))
  ) {
    entities = Object.fromEntries(Object.entries(given).filter(([k]) => !plan.requestFields.has(k)));
  }
  const rowCount = countRows(Object.keys(entities).length ? entities : given);
  const now = options.nowMs ?? Date.now();
  // request data first: a bad field is a 400 before any store read
  const request = new Map<OnDemandView, Map<string, unknown[]>>();
  for (const v of plan.views.keys()) {
    const cols = new Map<string, unknown[]>();
    for (const field of Object.keys(v.requestSchema)) {
      const fromData = options.requestData?.[field];
      const values = fromData ?? given[field];
      cols.set(field, requestColumn(v, field, values, rowCount, fromData ? 'request_data' : 'entities'));
    }
    request.set(v, cols);
  }
  const inner = plan.stored.length
    ? await readOnlineFeatures(repo, store, {
        entities,
        features: plan.stored,
        fullFeatureNames: true,
        nowMs: now,
        withWriteTime: options.withWriteTime === true,
        // no logger: the whole answer is logged below, with its on-demand features
      })
    : null;
  const storedCols = new Map(inner?.columns.map((c) => [c.name, c]) ?? []);
  const computed = new Map<string, FeatureColumn>();
  for (const [v, names] of plan.views) {
    const inputs = v.inputs.map((i) => storedCols.get(`${i.view}__${i.feature}`)!);
    const byName = new Map<string, readonly unknown[]>(request.get(v));
    v.inputs.forEach((input, k) => {
      const c = inputs[k];
      const values = new Array<unknown>(rowCount);
      for (let i = 0; i < rowCount; i++) values[i] = c.statuses[i] === 'PRESENT' ? c.values[i] : null;
      byName.set(input.feature, values);
    });
    const times = new Float64Array(rowCount);
    if (inputs.length === 0) times.fill(now);
    else
      for (const c of inputs) for (let i = 0; i < rowCount; i++) times[i] = Math.max(times[i], c.eventTimestampsMs[i]);
    for (const col of evaluateOnDemand(
      v,
      rowCount,
      (n) => byName.get(n)!,
      () => now,
      names,
    )) {
      const statuses = new Array<FeatureStatus>(rowCount);
      let failed = false;
      for (let i = 0; i < rowCount; i++) {
        const k = col.kinds[i];
        statuses[i] = STATUS[k];
        if (k === CELL_ERROR) failed = true;
      }
      computed.set(`${v.name}:${col.name}`, {
        name: col.name,
        ref: `${v.name}:${col.name}`,
        view: v.name,
        feature: col.name,
        dtype: col.dtype,
        values: col.values,
        statuses,
        eventTimestampsMs: times,
        ...(failed ? { errors: col.errors } : {}),
      });
    }
  }
  const columns = plan.outputs.map((o): FeatureColumn => {
    if ('stored' in o) {
      const c = storedCols.get(o.stored)!;
      return c.name === o.name ? c : { ...c, name: o.name };
    }
    const c = computed.get(`${o.view.name}:${o.feature}`)!;
    return c.name === o.name ? c : { ...c, name: o.name };
  });
  return logAnswer(new OnlineFeatures(entities, columns, rowCount), options, now);
}
