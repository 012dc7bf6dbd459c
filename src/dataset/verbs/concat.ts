import { StrataError } from '../../errors.js';
import { type Frame, NO_EXTRA, RowSource, type ViewColumn, type ViewPlan, identity, viewColumns } from './view.js';

function same(a: ViewColumn, b: ViewColumn): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.kind !== b.kind) return false;
  if (a.kind === 'stored' && b.kind === 'stored') return a.source === b.source;
  if (a.kind === 'extra' && b.kind === 'extra') return a.key === b.key;
  return false;
}

/** What a column holds, for matching columns across views: htype and dtype (and shape), or the value type. */
function typeOf(plan: ViewPlan, c: ViewColumn): string {
  switch (c.kind) {
    case 'stored': {
      const m = plan.core.columnManifest(c.source);
      const shape = (m.meta as { shape?: readonly number[] }).shape;
      return `${m.htype}${m.htype === m.dtype ? '' : ` ${m.dtype}`}${shape ? ` [${shape.join(', ')}]` : ''}`;
    }
    case 'extra':
      return 'joined';
    case 'computed':
      return c.expr ? (c.expr.type === 'null' ? 'number' : c.expr.type) : 'computed';
    case 'union':
      return typeOf(c.parts[0].plan, c.parts[0].col);
  }
}

/**
 * The rows of `plans` one after the other (SQL `UNION ALL`, pandas `concat`). Views of one
 * dataset version with the same columns (e.g. splits, groups or filters of one view) share its
 * rows; views of different datasets or versions need the same column names (in any order: the
 * first view's order is kept) holding the same types (htype and dtype), and each row, media
 * included, is read from its own view. INVALID_ARGUMENT naming the mismatched columns otherwise.
 */
export function concat(plans: readonly ViewPlan[]): ViewPlan {
  const [first] = plans;
  const cols = viewColumns(first);
  const shared = plans.every((p) => {
    const other = viewColumns(p);
    return p.core === first.core && other.length === cols.length && other.every((c, i) => same(c, cols[i]));
  });
  return shared ? concatShared(plans, cols) : concatUnion(plans, cols);
}

/** Views of one version with the same columns: their frames joined. */
function concatShared(plans: readonly ViewPlan[], cols: readonly ViewColumn[]): ViewPlan {
  const [first] = plans;
  const joinFrames = (frames: Frame[]): Frame => {
    const rows = new Uint32Array(frames.reduce((n, f) => n + f.rows.length, 0));
    let at = 0;
    for (const f of frames) {
      rows.set(f.rows, at);
      at += f.rows.length;
    }
    const extra = new Map<string, unknown[]>();
    for (const c of cols)
      if (c.kind === 'extra')
        extra.set(
          c.key,
          frames.flatMap((f) => [...f.extra.get(c.key)!]),
        );
    return { rows, extra };
  };
  const known = plans.map((p) => p.rows.known(p.core));
  const rows = known.every((k) => k !== undefined)
    ? RowSource.of(joinFrames(known))
    : RowSource.pending(async (signal) =>
        joinFrames(await Promise.all(plans.map((p) => p.rows.resolve(p.core, signal)))),
      );
  return { core: first.core, rows, columns: first.columns === null ? null : cols };
}

/** Views of different datasets or versions: `union` columns reading each part from its own view. */
function concatUnion(plans: readonly ViewPlan[], cols: readonly ViewColumn[]): ViewPlan {
  const [first] = plans;
  const byName = plans.map((p) => new Map(viewColumns(p).map((c) => [c.name, c])));
  plans.forEach((p, k) => {
    if (k === 0) return;
    const missing = cols.filter((c) => !byName[k].has(c.name)).map((c) => c.name);
    const extra = [...byName[k].keys()].filter((n) => !byName[0].has(n));
    const differ = cols
      .filter((c) => byName[k].has(c.name))
      .map((c) => ({ name: c.name, a: typeOf(first, c), b: typeOf(p, byName[k].get(c.name)!) }))
      .filter((d) => d.a !== d.b);
    if (missing.length || extra.length || differ.length) {
      const what = [
        missing.length ? `view ${k + 1} lacks ${missing.join(', ')}` : '',
        extra.length ? `view ${k + 1} has ${extra.join(', ')} that view 1 lacks` : '',
        ...differ.map((d) => `${d.name} is ${d.a} in view 1 but ${d.b} in view ${k + 1}`),
      ].filter(Boolean);
      throw new StrataError('INVALID_ARGUMENT', `concat: the views have different columns: ${what.join('; ')}`, {
        uri: p.core.uri,
        column: missing[0] ?? extra[0] ?? differ[0].name,
        columns: [...missing, ...extra, ...differ.map((d) => d.name)],
        hint: `select, rename or cast to the same columns in each (${cols.map((c) => c.name).join(', ')})`,
      });
    }
  });
  const columns: ViewColumn[] = cols.map((c) => ({
    name: c.name,
    kind: 'union',
    parts: plans.map((plan, k) => ({ plan, col: byName[k].get(c.name)! })),
  }));
  const frameOf = (frames: readonly Frame[]): Frame => ({
    rows: identity(frames.reduce((n, f) => n + f.rows.length, 0)),
    extra: NO_EXTRA,
  });
  const known = plans.map((p) => p.rows.known(p.core));
  const rows = known.every((k) => k !== undefined)
    ? RowSource.of(frameOf(known))
    : RowSource.pending(async (signal) => frameOf(await Promise.all(plans.map((p) => p.rows.resolve(p.core, signal)))));
  return { core: first.core, rows, columns };
}
