import { StrataError } from '../../errors.js';
import { type Frame, RowSource, type ViewColumn, type ViewPlan, viewColumns } from './view.js';

function same(a: ViewColumn, b: ViewColumn): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.kind !== b.kind) return false;
  if (a.kind === 'stored' && b.kind === 'stored') return a.source === b.source;
  if (a.kind === 'extra' && b.kind === 'extra') return a.key === b.key;
  return false;
}

/**
 * The rows of `plans` one after the other (SQL `UNION ALL`). The views must be of the same dataset
 * version and have the same columns (e.g. splits, groups or filters of one view): INVALID_ARGUMENT otherwise.
 */
export function concat(plans: readonly ViewPlan[]): ViewPlan {
  const [first] = plans;
  const cols = viewColumns(first);
  for (const p of plans.slice(1)) {
    if (p.core !== first.core) {
      throw new StrataError('INVALID_ARGUMENT', 'concat: the views are of different datasets or versions', {
        uri: p.core.uri,
        hint: 'concat views of one opened dataset; append rows to combine datasets',
      });
    }
    const other = viewColumns(p);
    if (other.length !== cols.length || other.some((c, i) => !same(c, cols[i]))) {
      throw new StrataError('INVALID_ARGUMENT', 'concat: the views have different columns', {
        hint: `select the same columns in each (${cols.map((c) => c.name).join(', ')})`,
      });
    }
  }
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
