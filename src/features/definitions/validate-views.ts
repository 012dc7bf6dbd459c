/** Validation of feature views (plain and aggregation). */
import { categoryOf, isNumericDtype } from './dtypes.js';
import { formatDuration, gcd, parseDuration } from './duration.js';
import { ExprError, exprCalls, exprColumns, parseExpr } from './expr.js';
import { validateMonitoring } from '../monitoring/thresholds.js';
import { checkFields, checkName, didYouMean, isList, type Issues } from './issues.js';
import {
  AGG_FUNCTIONS,
  WINDOW_KINDS,
  type AggFunction,
  type Aggregation,
  type AggregationDef,
  type TableDtype,
  type Entity,
  type FeatureView,
  type FeatureViewDef,
  type Source,
  type WindowSpec,
} from './types.js';

const VIEW_FIELDS = [
  'name',
  'entities',
  'source',
  'ttl',
  'freshness',
  'features',
  'aggregations',
  'tile',
  'online',
  'description',
  'tags',
  'monitoring',
];
const AGG_FIELDS = ['column', 'function', 'window', 'hop', 'windowKind', 'where', 'name', 'n', 'exactLimit'];
const NICE_TILES = [86_400_000, 3_600_000, 600_000, 300_000, 60_000, 10_000, 1000, 100, 10, 1];

/** Default tile: gcd of hops and tumbling sizes, and for sliding windows the largest round width ≤ window/10. */
export function defaultTile(windows: readonly WindowSpec[]): number {
  let g = 0;
  for (const w of windows) {
    let part = 0;
    if (w.kind === 'hopping' || w.kind === 'tumbling') part = w.hopMs ?? w.sizeMs;
    else if (w.kind === 'sliding') part = NICE_TILES.find((t) => t <= w.sizeMs / 10) ?? 1;
    if (part > 0 && Number.isInteger(part)) g = g ? gcd(g, part) : part;
  }
  return g || 3_600_000;
}

function aggDtype(fn: AggFunction, input: TableDtype | null): TableDtype {
  switch (fn) {
    case 'count':
    case 'count_distinct':
      return 'int64';
    case 'sum':
    case 'mean':
    case 'stddev':
      return 'float64';
    case 'last_n':
      return `list<${input ?? 'float64'}>`;
    default:
      return input ?? 'float64';
  }
}

interface Ctx {
  issues: Issues;
  entities: Map<string, Entity>;
  sources: Map<string, Source>;
}

function validateAggregation(
  ctx: Ctx,
  view: FeatureViewDef,
  i: number,
  a: AggregationDef,
  columns: Record<string, TableDtype> | undefined,
): Aggregation | undefined {
  const { issues } = ctx;
  const obj = `feature view ${view.name}`;
  const at = (f: string) => `aggregations[${i}].${f}`;
  if (!a || typeof a !== 'object') {
    issues.add(
      view,
      obj,
      `aggregations[${i}]`,
      'an aggregation must be an object',
      'e.g. { column: amount, function: sum, window: 1h }',
    );
    return undefined;
  }
  checkFields(issues, view, obj, AGG_FIELDS, `aggregations[${i}].`, a);
  for (const k of Object.keys(a)) if (!AGG_FIELDS.includes(k)) return undefined;
  const fn = a.function;
  if (!(AGG_FUNCTIONS as readonly string[]).includes(fn)) {
    issues.add(
      view,
      obj,
      at('function'),
      `unknown aggregation function ${JSON.stringify(fn ?? null)}`,
      `${didYouMean(String(fn), AGG_FUNCTIONS)}use one of ${AGG_FUNCTIONS.join(', ')}`,
    );
    return undefined;
  }
  let ok = true;
  const column = a.column === undefined || a.column === '*' ? null : a.column;
  if (column === null && fn !== 'count') {
    issues.add(
      view,
      obj,
      at('column'),
      `${fn} needs a column`,
      'set column to the input column (only count may omit it)',
    );
    ok = false;
  }
  let inputDtype: TableDtype | null = null;
  if (column !== null && columns) {
    if (!(column in columns)) {
      issues.add(
        view,
        obj,
        at('column'),
        `column ${column} is not in source ${view.source}`,
        `${didYouMean(column, Object.keys(columns))}columns: ${Object.keys(columns).join(', ')}`,
      );
      ok = false;
    } else {
      inputDtype = columns[column];
      if (['sum', 'mean', 'stddev', 'min', 'max'].includes(fn) && !isNumericDtype(inputDtype)) {
        issues.add(
          view,
          obj,
          at('function'),
          `${fn} needs a numeric column; ${column} is ${inputDtype}`,
          'use count, count_distinct, first, last or last_n for this column',
        );
        ok = false;
      }
    }
  } else if (column !== null) inputDtype = 'float64';
  let sizeMs: number | undefined;
  const lifetime = a.window === 'lifetime' || a.windowKind === 'lifetime';
  if (lifetime) sizeMs = Infinity;
  else {
    sizeMs = parseDuration(a.window);
    if (sizeMs === undefined || sizeMs <= 0) {
      issues.add(
        view,
        obj,
        at('window'),
        `bad window ${JSON.stringify(a.window ?? null)}`,
        'write a duration such as 30m, 1h, 7d, or lifetime',
      );
      ok = false;
    }
  }
  let hopMs: number | undefined;
  if (a.hop !== undefined) {
    hopMs = parseDuration(a.hop);
    if (hopMs === undefined || hopMs <= 0) {
      issues.add(view, obj, at('hop'), `bad hop ${JSON.stringify(a.hop)}`, 'write a duration such as 5m');
      ok = false;
      hopMs = undefined;
    }
  }
  if (a.windowKind !== undefined && !(WINDOW_KINDS as readonly string[]).includes(a.windowKind)) {
    issues.add(
      view,
      obj,
      at('windowKind'),
      `unknown window kind ${a.windowKind}`,
      `${didYouMean(a.windowKind, WINDOW_KINDS)}use one of ${WINDOW_KINDS.join(', ')}`,
    );
    return undefined;
  }
  const kind = a.windowKind ?? (lifetime ? 'lifetime' : hopMs !== undefined ? 'hopping' : 'sliding');
  if ((a.window === 'lifetime') !== (kind === 'lifetime')) {
    issues.add(
      view,
      obj,
      at('windowKind'),
      `window ${JSON.stringify(a.window)} does not go with windowKind ${kind}`,
      'use window: lifetime alone for all history, or a duration with sliding/hopping/tumbling',
    );
    return undefined;
  }
  if (kind === 'lifetime' && a.hop !== undefined) {
    issues.add(view, obj, at('hop'), 'a lifetime window has no hop', 'remove hop, or give a finite window');
    ok = false;
  }
  if (kind === 'sliding' && a.hop !== undefined) {
    issues.add(view, obj, at('hop'), 'a sliding window has no hop', 'remove hop, or use windowKind: hopping');
    ok = false;
  }
  if (kind === 'hopping' && a.hop === undefined) {
    issues.add(view, obj, at('hop'), 'a hopping window needs a hop', 'set hop, e.g. hop: 5m');
    ok = false;
  }
  if (kind === 'tumbling' && hopMs !== undefined && sizeMs !== undefined && hopMs !== sizeMs) {
    issues.add(
      view,
      obj,
      at('hop'),
      'a tumbling window hops by its own size',
      'remove hop, or use windowKind: hopping',
    );
    ok = false;
  }
  if (
    kind === 'hopping' &&
    hopMs !== undefined &&
    sizeMs !== undefined &&
    Number.isFinite(sizeMs) &&
    sizeMs % hopMs !== 0
  ) {
    issues.add(
      view,
      obj,
      at('hop'),
      `hop ${formatDuration(hopMs)} does not divide window ${formatDuration(sizeMs)}`,
      `pick a hop that divides the window, e.g. ${formatDuration(gcd(sizeMs, hopMs))}`,
    );
    ok = false;
  }
  if (a.where !== undefined) {
    try {
      const parsed = parseExpr(String(a.where));
      const calls = [...exprCalls(parsed)];
      if (calls.length) throw new ExprError(`functions (${calls.join(', ')}) belong in on-demand views`, 0);
      const cols = exprColumns(parsed);
      for (const c of cols) {
        if (columns && !(c in columns)) {
          issues.add(
            view,
            obj,
            at('where'),
            `where reads column ${c}, which is not in source ${view.source}`,
            `${didYouMean(c, Object.keys(columns))}columns: ${Object.keys(columns).join(', ')}`,
          );
          ok = false;
        }
      }
    } catch (err) {
      const pos = err instanceof ExprError ? ` at character ${err.pos + 1}` : '';
      issues.add(
        view,
        obj,
        at('where'),
        `bad where filter: ${(err as Error).message}${pos}`,
        "write SQL such as: status = 'ok' AND amount > 10",
      );
      ok = false;
    }
  }
  if (fn === 'last_n' && (a.n === undefined || !Number.isInteger(a.n) || a.n < 1)) {
    issues.add(
      view,
      obj,
      at('n'),
      a.n === undefined ? 'last_n needs n' : `n must be a positive integer, got ${JSON.stringify(a.n)}`,
      'set n, e.g. n: 5',
    );
    ok = false;
  } else if (fn !== 'last_n' && a.n !== undefined) {
    issues.add(view, obj, at('n'), `n only applies to last_n, not ${fn}`, 'remove n');
    ok = false;
  }
  if (a.exactLimit !== undefined && (!Number.isInteger(a.exactLimit) || a.exactLimit < 1)) {
    issues.add(
      view,
      obj,
      at('exactLimit'),
      `exactLimit must be a positive integer, got ${JSON.stringify(a.exactLimit)}`,
      'e.g. exactLimit: 1000',
    );
    ok = false;
  }
  if (!ok || sizeMs === undefined) return undefined;
  const window: WindowSpec = {
    kind,
    sizeMs,
    ...(kind === 'hopping' ? { hopMs } : kind === 'tumbling' ? { hopMs: sizeMs } : {}),
  };
  const label =
    kind === 'lifetime'
      ? 'lifetime'
      : formatDuration(sizeMs) +
        (kind === 'hopping' ? `_every_${formatDuration(hopMs!)}` : kind === 'tumbling' ? '_tumbling' : '');
  const name = a.name ?? `${column ?? 'rows'}_${fn}_${label}`;
  return {
    name,
    column,
    function: fn,
    window,
    ...(a.where !== undefined ? { where: String(a.where) } : {}),
    ...(fn === 'last_n' ? { n: a.n } : {}),
    exactLimit: a.exactLimit ?? 1000,
    dtype: aggDtype(fn, inputDtype),
    inputDtype,
  };
}

export function validateView(ctx: Ctx, def: FeatureViewDef, taken: Set<string>): FeatureView | undefined {
  const { issues, entities, sources } = ctx;
  const obj = `feature view ${def.name ?? '?'}`;
  checkFields(issues, def, obj, VIEW_FIELDS);
  const name = checkName(issues, def, obj, def.name);
  if (!name) return undefined;
  if (taken.has(name)) {
    issues.add(def, obj, 'name', `duplicate feature view name ${name}`, 'give each view a unique name');
    return undefined;
  }
  taken.add(name);
  let ok = true;
  const entityNames = isList(def.entities) ? def.entities : [];
  if (entityNames.length === 0) {
    issues.add(def, obj, 'entities', 'a feature view needs at least one entity', 'e.g. entities: [driver]');
    ok = false;
  }
  const joinKeys: string[] = [];
  entityNames.forEach((en, i) => {
    const e = entities.get(en);
    if (!e) {
      issues.add(
        def,
        obj,
        `entities[${i}]`,
        `unknown entity ${en}`,
        `${didYouMean(String(en), [...entities.keys()])}defined entities: ${[...entities.keys()].join(', ') || '(none)'}`,
      );
      ok = false;
    } else joinKeys.push(...e.joinKeys);
  });
  const source = sources.get(def.source);
  if (!source) {
    issues.add(
      def,
      obj,
      'source',
      `unknown source ${JSON.stringify(def.source ?? null)}`,
      `${didYouMean(String(def.source), [...sources.keys()])}defined sources: ${[...sources.keys()].join(', ') || '(none)'}`,
    );
    return undefined;
  }
  const columns = source.columns;
  if (columns) {
    entityNames.forEach((en, i) => {
      const e = entities.get(en);
      for (const k of e?.joinKeys ?? []) {
        if (!(k in columns)) {
          issues.add(
            def,
            obj,
            `entities[${i}]`,
            `join key ${k} of entity ${en} is not a column of source ${source.name}`,
            `${didYouMean(k, Object.keys(columns))}add the column or fix the entity's joinKeys (columns: ${Object.keys(columns).join(', ')})`,
          );
          ok = false;
        } else if (e!.valueType && categoryOf(e!.valueType) !== categoryOf(columns[k])) {
          issues.add(
            def,
            obj,
            `entities[${i}]`,
            `entity ${en} key ${k} is ${e!.valueType} but source ${source.name} has ${columns[k]}`,
            `make the types agree (cast the column or change valueType)`,
          );
          ok = false;
        }
      }
    });
  }
  let ttlMs: number | undefined;
  if (def.ttl !== undefined && def.ttl !== null && def.ttl !== 0) {
    ttlMs = parseDuration(def.ttl);
    if (ttlMs === undefined || ttlMs <= 0) {
      issues.add(
        def,
        obj,
        'ttl',
        `bad ttl ${JSON.stringify(def.ttl)}`,
        'write a positive duration such as 1d, or omit ttl for no limit',
      );
      ok = false;
      ttlMs = undefined;
    }
  }
  let freshnessMs: number | undefined;
  if (def.freshness !== undefined && def.freshness !== null) {
    freshnessMs = parseDuration(def.freshness);
    if (freshnessMs === undefined || freshnessMs <= 0) {
      issues.add(
        def,
        obj,
        'freshness',
        `bad freshness ${JSON.stringify(def.freshness)}`,
        'write a positive duration such as 15m (the largest allowed age of the newest online event), or omit it',
      );
      ok = false;
      freshnessMs = undefined;
    }
  }
  if (def.aggregations !== undefined && !isList(def.aggregations)) {
    issues.add(
      def,
      obj,
      'aggregations',
      'aggregations must be a list',
      'e.g. aggregations: [{ column: amount, function: sum, window: 1h }]',
    );
    return undefined;
  }
  const aggDefs = def.aggregations ?? [];
  const hasAggs = aggDefs.length > 0;
  if (hasAggs && def.features !== undefined) {
    issues.add(
      def,
      obj,
      'features',
      'a view has either features (plain) or aggregations, not both',
      'split it into two views',
    );
    return undefined;
  }
  const featureNames = new Set<string>();
  const dup = (n: string, field: string) => {
    if (featureNames.has(n) || joinKeys.includes(n)) {
      issues.add(
        def,
        obj,
        field,
        `duplicate feature name ${n}`,
        'give the feature a unique name (aggregations: set name)',
      );
      ok = false;
    }
    featureNames.add(n);
  };
  const base = {
    name,
    entities: joinKeys,
    entityNames: [...entityNames],
    source: source.name,
    ...(ttlMs ? { ttlMs } : {}),
    ...(freshnessMs ? { freshnessMs } : {}),
    online: def.online ?? true,
    ...(def.description ? { description: def.description } : {}),
  };
  if (hasAggs) {
    const aggs: Aggregation[] = [];
    aggDefs.forEach((a, i) => {
      const agg = validateAggregation(ctx, def, i, a, columns);
      if (agg) {
        dup(agg.name, `aggregations[${i}]${a.name ? '.name' : ''}`);
        aggs.push(agg);
      } else ok = false;
    });
    let tileMs: number | undefined;
    if (def.tile !== undefined) {
      tileMs = parseDuration(def.tile);
      if (tileMs === undefined || tileMs <= 0) {
        issues.add(def, obj, 'tile', `bad tile ${JSON.stringify(def.tile)}`, 'write a duration such as 1m');
        return undefined;
      }
    }
    tileMs ??= defaultTile(aggs.map((a) => a.window));
    aggs.forEach((a, i) => {
      const step = a.window.hopMs;
      if (step !== undefined && step % tileMs !== 0) {
        issues.add(
          def,
          obj,
          'tile',
          `tile ${formatDuration(tileMs)} does not divide the ${a.window.kind} step ${formatDuration(step)} of ${a.name}`,
          `use a tile that divides every hop, e.g. ${formatDuration(gcd(step, tileMs))}`,
        );
        ok = false;
      }
      void i;
    });
    const monitoring = validateMonitoring(
      issues,
      def,
      obj,
      def.monitoring,
      aggs.map((a) => a.name),
    );
    if (!ok || (def.monitoring !== undefined && !monitoring)) return undefined;
    return {
      ...base,
      ...(monitoring ? { monitoring } : {}),
      kind: 'aggregation',
      features: aggs.map((a) => ({ name: a.name, dtype: a.dtype })),
      columns: [],
      aggregations: aggs,
      tileMs,
    };
  }
  const skip = new Set([...joinKeys, source.timestampField, source.createdTimestampField, source.idField]);
  const list = def.features ?? (columns ? Object.keys(columns).filter((c) => !skip.has(c)) : []);
  if (!isList(list)) {
    issues.add(
      def,
      obj,
      'features',
      'features must be a list',
      'e.g. features: [conv_rate, { name: trips, dtype: int64 }]',
    );
    return undefined;
  }
  if (list.length === 0) {
    issues.add(def, obj, 'features', 'the view has no features', 'list features, or add aggregations');
    return undefined;
  }
  const features: { name: string; dtype: TableDtype }[] = [];
  const cols: string[] = [];
  list.forEach((f, i) => {
    const spec = typeof f === 'string' ? { name: f } : f;
    if (!spec || typeof spec.name !== 'string') {
      issues.add(
        def,
        obj,
        `features[${i}]`,
        'a feature needs a name',
        'write the column name, or { name, column?, dtype? }',
      );
      ok = false;
      return;
    }
    const col = spec.column ?? spec.name;
    let dtype = spec.dtype;
    if (columns) {
      if (!(col in columns)) {
        issues.add(
          def,
          obj,
          `features[${i}]`,
          `column ${col} is not in source ${source.name}`,
          `${didYouMean(col, Object.keys(columns))}columns: ${Object.keys(columns).join(', ')}`,
        );
        ok = false;
        return;
      }
      if (
        dtype &&
        categoryOf(dtype) !== categoryOf(columns[col]) &&
        !(isNumericDtype(dtype) && isNumericDtype(columns[col]))
      ) {
        issues.add(
          def,
          obj,
          `features[${i}]`,
          `feature ${spec.name} is declared ${dtype} but column ${col} is ${columns[col]}`,
          'fix the dtype or cast the column',
        );
        ok = false;
        return;
      }
      dtype ??= columns[col];
    }
    dup(spec.name, `features[${i}]`);
    features.push({ name: spec.name, dtype: dtype ?? 'float64' });
    cols.push(col);
  });
  const monitoring = validateMonitoring(
    issues,
    def,
    obj,
    def.monitoring,
    features.map((f) => f.name),
  );
  if (!ok || (def.monitoring !== undefined && !monitoring)) return undefined;
  return { ...base, ...(monitoring ? { monitoring } : {}), kind: 'plain', features, columns: cols, aggregations: [] };
}
