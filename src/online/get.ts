/**
 * `getOnlineFeatures`: stored features (read.ts) plus on-demand views, computed from the request data
 * and the stored features they read, by the same evaluator training sets use
 * (features/retrieval/on-demand-eval.ts). Bad request data is INVALID_ARGUMENT naming the field; a
 * row whose computation fails is that cell's status (`NOT_FOUND` for a missing input, `INVALID` for an
 * error), never a failed request.
 */
import { CELL_ERROR, evaluateOnDemand, requestColumn } from '../features/retrieval/on-demand-eval.js';
import { planFor, type OdPlan } from './on-demand-plan.js';
import { countRows, logAnswer, readOnlineFeatures, readWithPlan, type GetOnlineFeaturesOptions } from './read.js';
import { planKey } from './read-plan.js';
import { OnlineFeatures, type FeatureColumn, type FeatureStatus } from './result.js';
import type { OnlineStore } from './store.js';
import type { OnlineRepo } from './types.js';

const NO_FIELDS: ReadonlyMap<string, readonly unknown[]> = new Map();

/** By cell kind (CELL_VALUE, CELL_NULL, CELL_MISSING, CELL_ERROR). */
const STATUS: readonly FeatureStatus[] = ['PRESENT', 'NULL_VALUE', 'NOT_FOUND', 'INVALID'];

export function getOnlineFeatures(
  repo: OnlineRepo,
  store: OnlineStore,
  options: GetOnlineFeaturesOptions,
): Promise<OnlineFeatures> {
  const key = planKey(options);
  let plan: OdPlan | null;
  try {
    plan = repo.onDemandViews ? planFor(repo, options, key) : null;
  } catch (err) {
    return Promise.reject(err);
  }
  // no on-demand refs: straight to the stored features (the key built once, for both plan caches)
  return plan ? withOnDemand(store, options, plan) : readOnlineFeatures(repo, store, options, key);
}

/**
 * Stored inputs, then the on-demand features, synchronously when the store reads synchronously (one
 * promise for the whole answer, no await hops).
 */
function withOnDemand(store: OnlineStore, options: GetOnlineFeaturesOptions, plan: OdPlan): Promise<OnlineFeatures> {
  try {
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
    // all of `given` were request fields: the rows are counted on them
    const rowCount = countRows(entities !== given && Object.keys(entities).length === 0 ? given : entities);
    const now = options.nowMs ?? Date.now();
    // request data first: a bad field is a 400 before any store read
    const request = plan.views.map((vp) => {
      if (vp.requestFields.length === 0) return NO_FIELDS;
      const cols = new Map<string, readonly unknown[]>();
      for (const field of vp.requestFields) {
        const fromData = options.requestData?.[field];
        const values = fromData ?? given[field];
        cols.set(field, requestColumn(vp.view, field, values, rowCount, fromData ? 'request_data' : 'entities'));
      }
      return cols;
    });
    if (!plan.inner) return Promise.resolve(answer(plan, null, request, entities, rowCount, now, options));
    const inner = readWithPlan(
      store,
      {
        entities,
        features: plan.stored,
        fullFeatureNames: true,
        nowMs: now,
        withWriteTime: options.withWriteTime === true,
        // no logger: the whole answer is logged below, with its on-demand features
      },
      plan.inner,
    );
    return inner instanceof OnlineFeatures
      ? Promise.resolve(answer(plan, inner, request, entities, rowCount, now, options))
      : inner.then((r) => answer(plan, r, request, entities, rowCount, now, options));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The answer: stored columns as asked (renamed when needed), then each view's computed columns. */
function answer(
  plan: OdPlan,
  inner: OnlineFeatures | null,
  request: readonly ReadonlyMap<string, readonly unknown[]>[],
  entities: GetOnlineFeaturesOptions['entities'],
  rowCount: number,
  now: number,
  options: GetOnlineFeaturesOptions,
): OnlineFeatures {
  const storedCols = inner ? inner.columns : [];
  const computed: FeatureColumn[] = [];
  for (let k = 0; k < plan.views.length; k++) {
    const vp = plan.views[k];
    const v = vp.view;
    const fields = request[k];
    const inputs = vp.inputIndex.map((i) => storedCols[i]);
    // an input that is not PRESENT (missing, stale, null) reads as null
    const inputValues = inputs.map((c) => {
      let values: readonly unknown[] = c.values;
      for (let i = 0; i < rowCount; i++) {
        if (c.statuses[i] !== 'PRESENT' && c.values[i] !== null) {
          values = c.values.map((x, r) => (c.statuses[r] === 'PRESENT' ? x : null));
          break;
        }
      }
      return values;
    });
    const times = new Float64Array(rowCount);
    if (inputs.length === 0) times.fill(now);
    else
      for (const c of inputs) for (let i = 0; i < rowCount; i++) times[i] = Math.max(times[i], c.eventTimestampsMs[i]);
    const cols = evaluateOnDemand(
      v,
      rowCount,
      (n) => {
        const at = v.inputs.findIndex((i) => i.feature === n);
        return at >= 0 ? inputValues[at] : fields.get(n)!;
      },
      () => now,
      vp.names,
    );
    for (let j = 0; j < cols.length; j++) {
      const col = cols[j];
      const ref = vp.refs[j];
      const statuses = new Array<FeatureStatus>(rowCount);
      let failed = false;
      for (let i = 0; i < rowCount; i++) {
        const kind = col.kinds[i];
        statuses[i] = STATUS[kind];
        if (kind === CELL_ERROR) failed = true;
      }
      computed.push(
        failed
          ? {
              name: col.name,
              ref,
              view: v.name,
              feature: col.name,
              dtype: col.dtype,
              values: col.values,
              statuses,
              eventTimestampsMs: times,
              errors: col.errors,
            }
          : {
              name: col.name,
              ref,
              view: v.name,
              feature: col.name,
              dtype: col.dtype,
              values: col.values,
              statuses,
              eventTimestampsMs: times,
            },
      );
    }
  }
  const columns = new Array<FeatureColumn>(plan.outputs.length);
  for (let j = 0; j < plan.outputs.length; j++) {
    const o = plan.outputs[j];
    const c = 'stored' in o ? storedCols[o.index] : computed[o.index];
    columns[j] = c.name === o.name ? c : renamed(c, o.name);
  }
  return logAnswer(new OnlineFeatures(entities, columns, rowCount), options, now);
}

/** `c` under another output name (a stored input read under its full name, asked for by its short one). */
function renamed(c: FeatureColumn, name: string): FeatureColumn {
  const out: FeatureColumn = {
    name,
    ref: c.ref,
    view: c.view,
    feature: c.feature,
    dtype: c.dtype,
    values: c.values,
    statuses: c.statuses,
    eventTimestampsMs: c.eventTimestampsMs,
  };
  if (c.writeTimestampsMs === undefined && c.errors === undefined) return out;
  return {
    ...out,
    ...(c.writeTimestampsMs !== undefined ? { writeTimestampsMs: c.writeTimestampsMs } : {}),
    ...(c.errors !== undefined ? { errors: c.errors } : {}),
  };
}
