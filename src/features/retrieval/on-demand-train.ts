/**
 * On-demand views in training sets: their inputs are joined point-in-time like any feature (under
 * hidden names when not asked for), their request fields come from the entity rows' columns, `now`
 * is each row's timestamp, and on-demand-eval.ts computes them with the code serving uses.
 */
import * as A from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { arrowOfDtype, categoryOf } from '../definitions/dtypes.js';
import type { OnDemandView } from '../definitions/on-demand.js';
import type { FeatureService, FeatureView } from '../definitions/types.js';
import { cellValue, readTimestamps } from '../engine/columns.js';
import { resolveRequest, type HistoricalOptions, type ResolvedRequest } from './historical.js';
import { evaluateOnDemand, requestColumn } from './on-demand-eval.js';

export interface OnDemandPlan {
  /** The request for stored features: the asked ones plus the on-demand views' inputs. */
  readonly request: ResolvedRequest;
  /** On-demand view → its asked features, in request order. */
  readonly views: Map<OnDemandView, string[]>;
  readonly fullFeatureNames: boolean;
}

const hiddenName = (ref: string) => `__ondemand_input__${ref.replace(':', '__')}`;

/** Splits the refs (or the service's) into stored features and on-demand ones; null when none is on-demand. */
export function planOnDemand(
  views: ReadonlyMap<string, FeatureView>,
  services: ReadonlyMap<string, FeatureService>,
  onDemand: ReadonlyMap<string, OnDemandView>,
  options: HistoricalOptions,
): OnDemandPlan | null {
  if (onDemand.size === 0) return null;
  const refs = options.featureService !== undefined ? services.get(options.featureService)?.features : options.features;
  if (!refs || !refs.some((r) => onDemand.has(r.split(':', 1)[0]))) return null;
  const base: string[] = [];
  const od = new Map<OnDemandView, string[]>();
  for (const ref of refs) {
    const [name, feature] = ref.split(':', 2);
    const v = onDemand.get(name);
    if (!v) {
      base.push(ref);
      continue;
    }
    if (feature !== undefined && !v.features.some((f) => f.name === feature)) {
      throw new StrataError('INVALID_ARGUMENT', `on-demand view ${name} has no feature ${feature}`, {
        field: 'features',
        key: ref,
        hint: `features: ${v.features.map((f) => f.name).join(', ')}`,
      });
    }
    const list = od.get(v) ?? [];
    for (const f of feature === undefined ? v.features.map((x) => x.name) : [feature])
      if (!list.includes(f)) list.push(f);
    od.set(v, list);
  }
  const full = options.fullFeatureNames ?? false;
  const request: ResolvedRequest = base.length
    ? resolveRequest(views, services, { ...options, features: base, featureService: undefined })
    : { byView: new Map(), outNames: new Map() };
  for (const v of od.keys()) {
    for (const input of v.inputs) {
      if (request.outNames.has(input.ref)) continue;
      request.outNames.set(input.ref, hiddenName(input.ref));
      const list = request.byView.get(input.view) ?? [];
      if (!list.includes(input.feature)) list.push(input.feature);
      request.byView.set(input.view, list);
    }
  }
  return { request, views: od, fullFeatureNames: full };
}

function vectorOfValues(values: readonly unknown[], dtype: string): A.Vector {
  const type = arrowOfDtype(dtype);
  if (type.typeId === A.Type.Int && (type as A.Int).bitWidth === 64) {
    return A.vectorFromArray(
      values.map((v) => (v === null ? null : BigInt(v as number))),
      type,
    );
  }
  if (categoryOf(dtype) === 'list') {
    return A.vectorFromArray(
      values.map((v) => (v === null ? null : Array.from(v as ArrayLike<number>))),
      type,
    );
  }
  return A.vectorFromArray(values as unknown[], type);
}

/** Adds the on-demand columns to the training set and drops the hidden inputs. */
export function applyOnDemand(table: A.Table, rows: A.Table, plan: OnDemandPlan, options: HistoricalOptions): A.Table {
  const n = table.numRows;
  const tsCol = options.timestampColumn ?? 'event_timestamp';
  const ts = readTimestamps(rows.getChild(tsCol)!);
  const columns: Record<string, A.Vector> = {};
  for (const f of table.schema.fields) {
    if (!f.name.startsWith('__ondemand_input__')) columns[f.name] = table.getChild(f.name)!;
  }
  const cells = (vec: A.Vector): unknown[] => {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = cellValue(vec, i) ?? null;
    return out;
  };
  for (const [view, names] of plan.views) {
    const byName = new Map<string, () => readonly unknown[]>();
    for (const input of view.inputs) {
      const col = plan.request.outNames.get(input.ref)!;
      byName.set(input.feature, () => cells(table.getChild(col)!));
    }
    for (const field of Object.keys(view.requestSchema)) {
      const vec = rows.getChild(field);
      if (!vec) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `entity rows lack column ${field}, a request field of on-demand view ${view.name}`,
          {
            column: field,
            field: `entity_rows.${field}`,
            key: view.name,
            hint: `add a ${field} column to the entity rows`,
          },
        );
      }
      byName.set(field, () => requestColumn(view, field, cells(vec), n, 'entity_rows'));
    }
    const computed = evaluateOnDemand(
      view,
      n,
      (name) => byName.get(name)!(),
      (i) => ts[i],
      names,
    );
    for (const c of computed) {
      const out = plan.fullFeatureNames ? `${view.name}__${c.name}` : c.name;
      if (out in columns) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `on-demand feature ${view.name}:${c.name} would overwrite column ${out}`,
          {
            column: out,
            hint: 'rename the entity rows column, or pass fullFeatureNames: true',
          },
        );
      }
      columns[out] = vectorOfValues(c.values, c.dtype);
    }
  }
  return new A.Table(columns);
}
