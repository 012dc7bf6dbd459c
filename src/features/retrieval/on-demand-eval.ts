/**
 * Evaluates on-demand views (definitions/on-demand.ts), the one code path for serving
 * (`getOnlineFeatures`) and training sets (`getHistoricalFeatures`): request values are checked and
 * normalized against the declared request schema the same way in both, each row is computed by the
 * same compiled expression or transform, and outputs are coerced to the declared dtype.
 * A row's failure is that row's cell (kind `error`), never the request's.
 */
import { StrataError } from '../../errors.js';
import { categoryOf, listElement } from '../definitions/dtypes.js';
import { vectorOf } from '../definitions/expr-value.js';
import type { OnDemandView } from '../definitions/on-demand.js';
import type { TableDtype } from '../definitions/types.js';

/** Per cell: 0 value, 1 null value, 2 null because an input it reads is missing, 3 the computation failed. */
export const CELL_VALUE = 0;
export const CELL_NULL = 1;
export const CELL_MISSING = 2;
export const CELL_ERROR = 3;

export interface OnDemandColumn {
  readonly name: string;
  readonly dtype: TableDtype;
  readonly values: unknown[];
  readonly kinds: Uint8Array;
  /** The error message of each CELL_ERROR cell (else null). */
  readonly errors: (string | null)[];
}

interface DtypeInfo {
  readonly cat: ReturnType<typeof categoryOf>;
  /** Vectors: the element dtype and the declared width. */
  readonly el: TableDtype;
  readonly width: number | undefined;
}
const infos = new Map<TableDtype, DtypeInfo>();

/** A dtype's category, element and width, parsed once per dtype string (asDtype runs per cell). */
function dtypeInfo(dtype: TableDtype): DtypeInfo {
  let info = infos.get(dtype);
  if (!info) {
    const m = /\[\s*(\d+)\s*\]$/.exec(dtype);
    info = { cat: categoryOf(dtype), el: listElement(dtype) ?? 'float64', width: m ? Number(m[1]) : undefined };
    if (infos.size < 1024) infos.set(dtype, info);
  }
  return info;
}

function mismatch(reason: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', reason, { hint: 'send a value of the declared dtype' });
}

/** A value as `dtype` (request fields in, computed features out); INVALID_ARGUMENT saying why when it is not one. */
export function asDtype(v: unknown, dtype: TableDtype): unknown {
  if (v === null || v === undefined) return null;
  const { cat, el, width } = dtypeInfo(dtype);
  switch (cat) {
    case 'float':
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number.NaN;
      if (typeof v !== 'number' && typeof v !== 'bigint') throw mismatch(`expected a number, got ${describe(v)}`);
      if (!Number.isFinite(n)) return null;
      if (cat === 'int' && !Number.isInteger(n)) throw mismatch(`expected an integer, got ${n}`);
      return dtype === 'float32' || dtype === 'float16' ? Math.fround(n) : n;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw mismatch(`expected true or false, got ${describe(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw mismatch(`expected a string, got ${describe(v)}`);
      return v;
    case 'timestamp': {
      const ms =
        typeof v === 'number'
          ? v
          : typeof v === 'bigint'
            ? Number(v)
            : v instanceof Date
              ? v.getTime()
              : typeof v === 'string'
                ? Date.parse(v)
                : Number.NaN;
      if (!Number.isFinite(ms))
        throw mismatch(`expected an ISO 8601 timestamp or epoch milliseconds, got ${describe(v)}`);
      return ms;
    }
    default: {
      // already the right typed array (a stored embedding): as is, no copy
      if (v instanceof (el === 'float32' ? Float32Array : Float64Array)) {
        if (width === undefined || v.length === width) return v;
      }
      let vec: ArrayLike<number> | null;
      try {
        vec = vectorOf(v, 'a vector');
      } catch {
        throw mismatch(`expected a vector of numbers, got ${describe(v)}`);
      }
      if (vec === null) return null;
      if (width !== undefined && vec.length !== width) throw mismatch(`expected ${width} numbers, got ${vec.length}`);
      const out = el === 'float32' ? new Float32Array(vec.length) : new Float64Array(vec.length);
      for (let i = 0; i < vec.length; i++) {
        if (typeof vec[i] !== 'number') throw mismatch(`expected a vector of numbers, got a ${describe(vec[i])} in it`);
        out[i] = vec[i];
      }
      return out;
    }
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (ArrayBuffer.isView(v)) return 'a typed array';
  if (v instanceof Date) return 'a date';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : typeof v;
}

/**
 * Checks one request field's values (one per row) against its dtype; returns them normalized.
 * INVALID_ARGUMENT names the field (`<prefix>.<name>`) and the first bad row.
 */
export function requestColumn(
  view: OnDemandView,
  field: string,
  values: readonly unknown[] | undefined,
  rowCount: number,
  prefix: string,
): unknown[] {
  const dtype = view.requestSchema[field];
  const path = `${prefix}.${field}`;
  if (!Array.isArray(values)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      values === undefined
        ? `on-demand view ${view.name} needs request field ${field} (${dtype})`
        : `${path} must be a list of values, one per entity row`,
      { field: path, key: view.name, hint: `pass ${path}: [...] with one ${dtype} per entity row` },
    );
  }
  if (values.length !== rowCount) {
    throw new StrataError('INVALID_ARGUMENT', `${path} has ${values.length} values for ${rowCount} entity rows`, {
      field: path,
      hint: 'give the request field one value per entity row',
    });
  }
  const out = new Array<unknown>(rowCount);
  for (let i = 0; i < rowCount; i++) {
    try {
      out[i] = asDtype(values[i], dtype);
    } catch (reason) {
      throw new StrataError('INVALID_ARGUMENT', `${path}[${i}] is not a ${dtype}: ${(reason as Error).message}`, {
        field: path,
        row: i,
        key: view.name,
        hint: `declared in request_schema of on-demand view ${view.name}`,
      });
    }
  }
  return out;
}

/** What `evaluateOnDemand` needs of a view and a feature selection, worked out once per pair. */
interface EvalPlan {
  readonly only: readonly string[] | undefined;
  readonly feats: OnDemandView['features'];
  /** Inputs (by feature name) then request fields: the names `column` is asked for, in this order. */
  readonly names: readonly string[];
  readonly nameIndex: ReadonlyMap<string, number>;
  /** Per feature: the positions (in `names`) of the names it reads. */
  readonly reads: readonly (readonly number[])[];
  /** Positions of the inputs (0 … inputs − 1). */
  readonly inputs: readonly number[];
}
const evalPlans = new WeakMap<OnDemandView, EvalPlan[]>();

function evalPlan(view: OnDemandView, only: readonly string[] | undefined): EvalPlan {
  let list = evalPlans.get(view);
  if (!list) evalPlans.set(view, (list = []));
  for (const p of list) if (p.only === only) return p;
  const feats = only ? view.features.filter((f) => only.includes(f.name)) : view.features;
  const names = [...view.inputs.map((i) => i.feature), ...Object.keys(view.requestSchema)];
  const nameIndex = new Map(names.map((n, k) => [n, k]));
  const reads = feats.map((f) => f.reads.map((r) => nameIndex.get(r) ?? -1));
  const plan = { only, feats, names, nameIndex, reads, inputs: view.inputs.map((_, k) => k) };
  // `only` is usually one array kept by the caller (online plans); fresh ones each call stay bounded
  if (list.length >= 8) list.length = 0;
  list.push(plan);
  return plan;
}

/** Whether row `i` of any of the columns at `at` is null (a missing input). */
function readsMissing(cols: readonly (readonly unknown[] | undefined)[], at: readonly number[], i: number): boolean {
  for (const k of at) if (k < 0 || cols[k]?.[i] == null) return true;
  return false;
}

/** The `get` of compiled expressions: a name's value in the current row (`state.i`), null when none. */
function rowGetter(
  state: { cols: readonly (readonly unknown[] | undefined)[]; i: number },
  nameIndex: ReadonlyMap<string, number>,
): (name: string) => unknown {
  return (name) => {
    const k = nameIndex.get(name);
    return k === undefined ? null : (state.cols[k]?.[state.i] ?? null);
  };
}

/**
 * Computes the view's features for `rowCount` rows. `column(name)` gives the values of an input
 * feature (by feature name) or request field, one per row, null where missing; `nowMs(i)` is the
 * row's `now`.
 */
export function evaluateOnDemand(
  view: OnDemandView,
  rowCount: number,
  column: (name: string) => readonly unknown[],
  nowMs: (row: number) => number,
  only?: readonly string[],
): OnDemandColumn[] {
  const { feats, names, nameIndex, reads, inputs } = evalPlan(view, only);
  const cols: (readonly unknown[] | undefined)[] = names.map((n) => column(n));
  // inputs as their declared dtype, whichever path read them (Arrow cells in training sets, store
  // values online): vectors become typed arrays, times epoch ms. Copied only when a value changes.
  for (let k = 0; k < view.inputs.length; k++) {
    const raw = cols[k];
    if (!raw) continue;
    const dtype = view.inputs[k].dtype;
    let norm: unknown[] | undefined;
    for (let r = 0; r < raw.length; r++) {
      let v: unknown;
      try {
        v = asDtype(raw[r], dtype);
      } catch {
        v = raw[r];
      }
      if (norm) norm[r] = v;
      else if (v !== raw[r] && !(v === null && raw[r] === undefined)) {
        norm = raw.slice(0, r);
        norm[r] = v;
      }
    }
    if (norm) cols[k] = norm;
  }
  const out = feats.map((f) => ({
    name: f.name,
    dtype: f.dtype,
    values: new Array<unknown>(rowCount).fill(null),
    kinds: new Uint8Array(rowCount),
    errors: new Array<string | null>(rowCount).fill(null),
  }));
  const state = { cols, i: 0 };
  const get = rowGetter(state, nameIndex);
  for (let i = 0; i < rowCount; i++) {
    state.i = i;
    const now = nowMs(i);
    let row: Readonly<Record<string, unknown>> | undefined;
    let rowError: string | undefined;
    if (view.transform && readsMissing(cols, inputs, i)) {
      // a missing input feature: the transform is not called, its features are NOT_FOUND
      for (const o of out) o.kinds[i] = CELL_MISSING;
      continue;
    }
    if (view.transform) {
      try {
        const input: Record<string, unknown> = {};
        for (const n of names) input[n] = get(n);
        row = view.transform(input, { nowMs: now }) ?? {};
      } catch (err) {
        rowError = err instanceof Error ? err.message : String(err);
      }
    }
    for (let j = 0; j < feats.length; j++) {
      const f = feats[j];
      const o = out[j];
      if (rowError !== undefined) {
        o.kinds[i] = CELL_ERROR;
        o.errors[i] = rowError;
        continue;
      }
      try {
        const raw = f.fn ? f.fn(get, now) : row?.[f.name];
        const v = asDtype(raw, f.dtype);
        o.values[i] = v;
        o.kinds[i] = v !== null ? CELL_VALUE : readsMissing(cols, reads[j], i) ? CELL_MISSING : CELL_NULL;
      } catch (err) {
        o.kinds[i] = CELL_ERROR;
        o.errors[i] = `${f.name}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }
  return out;
}
