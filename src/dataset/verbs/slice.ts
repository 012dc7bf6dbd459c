import { StrataError } from '../../errors.js';
import { type ViewPlan, identity, selectRows } from './view.js';

function clamp(i: number, n: number): number {
  return Math.max(0, Math.min(n, Math.trunc(i)));
}

/**
 * Rows `start` (inclusive) to `end` (exclusive) of the view; negative values count from the end.
 * Runs at once when the view's rows are known, else on the first terminal.
 */
export function slice(plan: ViewPlan, start = 0, end?: number): ViewPlan {
  return selectRows(
    plan,
    (frame) => {
      const n = frame.rows.length;
      const e0 = end ?? n;
      const s = clamp(start < 0 ? n + start : start, n);
      const e = clamp(e0 < 0 ? n + e0 : e0, n);
      return identity(Math.max(s, e)).subarray(s);
    },
    true,
  );
}

export function head(plan: ViewPlan, n = 5): ViewPlan {
  return slice(plan, 0, Math.max(0, n));
}

export function tail(plan: ViewPlan, n = 5): ViewPlan {
  return selectRows(plan, (frame) => identity(frame.rows.length).subarray(Math.max(0, frame.rows.length - n)), true);
}

/** The rows at the given positions of the view (repeats allowed); INVALID_ARGUMENT for one out of range. */
export function take(plan: ViewPlan, indices: ArrayLike<number>): ViewPlan {
  const wanted = Array.from(indices);
  return selectRows(
    plan,
    (frame) => {
      const n = frame.rows.length;
      return wanted.map((i) => {
        const j = i < 0 ? n + i : i;
        if (!Number.isInteger(j) || j < 0 || j >= n) {
          throw new StrataError('INVALID_ARGUMENT', `row ${i} is out of range for ${n} rows of ${plan.core.uri}`, {
            row: i,
            uri: plan.core.uri,
          });
        }
        return j;
      });
    },
    true,
  );
}
