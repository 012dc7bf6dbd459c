/**
 * On-demand views: features computed at request time from request data and other views' features,
 * by an expression (expr.ts, e.g. `cosine(user_emb, item_emb)`, `now - last_seen`) or a TypeScript
 * `transform`. The same validated object is evaluated online and in training sets (on-demand-eval.ts).
 */
import { categoryOf } from './dtypes.js';
import { ExprError, operandColumns, parseValueExpr } from './expr.js';
import { compileValue, type ValueFn } from './expr-value.js';
import { checkFields, checkName, didYouMean, isList, type Issues } from './issues.js';
import type { FeatureSpec, FeatureView, TableDtype } from './types.js';

export interface OnDemandFeatureDef {
  readonly name: string;
  /** Value expression over the inputs' feature names, the request fields and `now`. */
  readonly expr?: string;
  /** Output dtype. Default `float64`. */
  readonly dtype?: TableDtype;
}

/** What `now` is: the request time online, the entity row's timestamp in a training set (epoch ms). */
export interface OnDemandContext {
  readonly nowMs: number;
}

/**
 * One row's computation: `row` holds each input feature (as its dtype: vectors as typed arrays,
 * times as epoch ms) and request field (null when not given) by name. Rows with a missing input
 * feature are not computed (NOT_FOUND). Return one value per output feature (missing keys are
 * null). Throwing marks the row's
 * features as errors (status INVALID online, null in training sets); it never fails the request.
 */
export type OnDemandTransform = (
  row: Readonly<Record<string, unknown>>,
  context: OnDemandContext,
) => Readonly<Record<string, unknown>>;

export interface OnDemandViewDef {
  readonly name: string;
  /** Feature refs (`view:feature`) read; expressions and the transform's row name each by its feature name. */
  readonly inputs?: readonly string[];
  /** Request-time fields → dtype (`float32[128]`, `timestamp`, `float64`, `string`, …). */
  readonly requestSchema?: Readonly<Record<string, TableDtype>>;
  /** Output features: each with an `expr`, or all computed by `transform`. */
  readonly features: readonly OnDemandFeatureDef[];
  readonly transform?: OnDemandTransform;
  readonly description?: string;
}

export interface OnDemandInput {
  /** `view:feature`. */
  readonly ref: string;
  readonly view: string;
  readonly feature: string;
  readonly dtype: TableDtype;
}

export interface OnDemandFeature extends FeatureSpec {
  readonly expr?: string;
  /** Input and request names the expression reads (all of them with a transform). */
  readonly reads: readonly string[];
  /** The compiled expression (absent with a transform). */
  readonly fn?: ValueFn;
}

export interface OnDemandView {
  readonly name: string;
  readonly inputs: readonly OnDemandInput[];
  readonly requestSchema: Readonly<Record<string, TableDtype>>;
  readonly features: readonly OnDemandFeature[];
  readonly transform?: OnDemandTransform;
  readonly description?: string;
}

const FIELDS = ['name', 'inputs', 'requestSchema', 'features', 'transform', 'description'];
const FEATURE_FIELDS = ['name', 'expr', 'dtype'];

function validDtype(d: unknown): d is TableDtype {
  return typeof d === 'string' && categoryOf(d) !== 'other';
}

/** Validates on-demand views against the (validated) feature views; problems go to `issues`. */
export function validateOnDemandViews(
  issues: Issues,
  defs: readonly OnDemandViewDef[],
  views: ReadonlyMap<string, FeatureView>,
  taken: Set<string>,
): Map<string, OnDemandView> {
  const out = new Map<string, OnDemandView>();
  for (const def of defs) {
    if (!def || typeof def !== 'object') continue;
    const obj = `on-demand view ${def.name ?? '?'}`;
    checkFields(issues, def, obj, FIELDS);
    const name = checkName(issues, def, obj, def.name);
    if (!name) continue;
    if (taken.has(name) || out.has(name)) {
      issues.add(def, obj, 'name', `name ${name} is already a view`, 'give each view a unique name');
      continue;
    }
    let ok = true;
    const bad = (field: string, message: string, hint: string) => {
      issues.add(def, obj, field, message, hint);
      ok = false;
    };
    const names = new Map<string, string>();
    const inputs: OnDemandInput[] = [];
    if (def.inputs !== undefined && !isList(def.inputs)) bad('inputs', 'inputs must be a list', 'e.g. [users:emb]');
    (isList(def.inputs) ? def.inputs : []).forEach((ref, i) => {
      const [viewName, feature] = String(ref).split(':', 2);
      const view = views.get(viewName);
      const spec = view?.features.find((f) => f.name === feature);
      if (!view || !spec) {
        const hint = view
          ? `${didYouMean(
              feature ?? '',
              view.features.map((f) => f.name),
            )}write view:feature`
          : `${didYouMean(viewName, [...views.keys()])}views: ${[...views.keys()].join(', ')}`;
        bad(`inputs[${i}]`, `input ${String(ref)} is not a feature of a feature view`, hint);
        return;
      }
      if (names.has(feature)) {
        bad(`inputs[${i}]`, `two inputs are named ${feature}`, 'read one feature of each name');
        return;
      }
      names.set(feature, `input ${ref}`);
      inputs.push({ ref: `${viewName}:${feature}`, view: viewName, feature, dtype: spec.dtype });
    });
    const requestSchema: Record<string, TableDtype> = {};
    const rs = def.requestSchema ?? {};
    if (typeof rs !== 'object' || Array.isArray(rs)) {
      bad('requestSchema', 'request_schema must map field names to dtypes', 'e.g. { item_emb: float32[128] }');
    } else {
      for (const [field, dtype] of Object.entries(rs)) {
        if (!validDtype(dtype)) {
          bad(`requestSchema.${field}`, `request field ${field} has unknown dtype ${String(dtype)}`, 'e.g. float64');
        } else if (names.has(field)) {
          bad(`requestSchema.${field}`, `request field ${field} has the name of an input`, 'rename one of them');
        } else {
          names.set(field, 'request field');
          requestSchema[field] = dtype;
        }
      }
    }
    const transform = def.transform;
    if (transform !== undefined && typeof transform !== 'function') {
      bad('transform', 'transform must be a function (row, context) => values', 'or give each feature an expr');
    }
    const features: OnDemandFeature[] = [];
    if (!isList(def.features) || def.features.length === 0) {
      bad('features', 'an on-demand view needs features', 'e.g. features: [{ name: sim, expr: cosine(a, b) }]');
    }
    (isList(def.features) ? def.features : []).forEach((f, i) => {
      const at = `features[${i}]`;
      if (!f || typeof f !== 'object') return bad(at, 'a feature is { name, expr?, dtype? }', 'e.g. { name: sim }');
      checkFields(issues, def, obj, FEATURE_FIELDS, `${at}.`, f);
      if (typeof f.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) {
        return bad(`${at}.name`, `feature name ${JSON.stringify(f.name ?? null)} is not an identifier`, 'e.g. sim');
      }
      if (features.some((x) => x.name === f.name)) return bad(`${at}.name`, `duplicate feature ${f.name}`, 'rename');
      if (f.dtype !== undefined && !validDtype(f.dtype)) {
        return bad(`${at}.dtype`, `unknown dtype ${String(f.dtype)}`, 'e.g. float64, float32[16], int64, bool');
      }
      const dtype = f.dtype ?? 'float64';
      if (transform !== undefined) {
        if (f.expr !== undefined) bad(`${at}.expr`, 'an expr and a transform', 'use one of them');
        return void features.push({ name: f.name, dtype, reads: [...names.keys()] });
      }
      if (typeof f.expr !== 'string') {
        return bad(`${at}.expr`, `feature ${f.name} has no expr`, 'e.g. expr: cosine(user_emb, item_emb)');
      }
      try {
        const parsed = parseValueExpr(f.expr);
        const reads = [...operandColumns(parsed)];
        for (const c of reads) {
          if (!names.has(c)) {
            const known = [...names.keys()];
            bad(
              `${at}.expr`,
              `expr reads ${c}, which is neither an input nor a request field`,
              `${didYouMean(c, known)}names: ${known.join(', ') || '(none)'}`,
            );
          }
        }
        features.push({ name: f.name, dtype, expr: f.expr, reads, fn: compileValue(parsed) });
      } catch (err) {
        const pos = err instanceof ExprError ? ` at character ${err.pos + 1}` : '';
        bad(`${at}.expr`, `bad expr: ${(err as Error).message}${pos}`, 'e.g. cosine(a, b), now - last_seen, x * 2');
      }
    });
    if (!ok) continue;
    taken.add(name);
    out.set(name, {
      name,
      inputs,
      requestSchema,
      features,
      ...(transform ? { transform } : {}),
      ...(def.description ? { description: def.description } : {}),
    });
  }
  return out;
}
