import { StrataError } from '../../errors.js';
import { seedOf, seededRandom, shuffle } from './random.js';
import { type ViewPlan, identity, selectRows } from './view.js';

export interface SampleOptions {
  /** Seed of the draw: the same seed on the same view draws the same rows. Default: random. */
  readonly seed?: number;
}

/** How many rows to draw: a count, or `{ fraction }` of the view (rounded to the nearest row). */
export type SampleSize = number | { readonly fraction: number };

/**
 * `n` distinct rows drawn uniformly without replacement (or a fraction of the view), kept in the
 * view's order. INVALID_ARGUMENT when `n` exceeds the view's rows or the fraction is outside [0, 1].
 */
export function sample(plan: ViewPlan, size: SampleSize, options: SampleOptions = {}): ViewPlan {
  const fraction = typeof size === 'object' && size !== null ? size.fraction : undefined;
  const count = typeof size === 'number' ? size : undefined;
  if (fraction !== undefined ? !(fraction >= 0 && fraction <= 1) : !(Number.isInteger(count) && count! >= 0)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `sample: expected a row count or { fraction } in [0, 1], got ${JSON.stringify(size)}`,
      {
        hint: 'write sample(100, { seed: 1 }) or sample({ fraction: 0.1 }, { seed: 1 })',
      },
    );
  }
  const seed = seedOf(options.seed);
  return selectRows(
    plan,
    (frame) => {
      const n = frame.rows.length;
      const k = fraction !== undefined ? Math.round(fraction * n) : count!;
      if (k > n) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `sample: ${k} rows asked of a view of ${n} rows of ${plan.core.uri}`,
          {
            uri: plan.core.uri,
            hint: 'sample at most as many rows as the view has (draws are without replacement)',
          },
        );
      }
      return Uint32Array.from(shuffle(Array.from(identity(n)), seededRandom(seed), k)).sort();
    },
    true,
  );
}
