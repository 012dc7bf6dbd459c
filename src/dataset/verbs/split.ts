import { StrataError } from '../../errors.js';
import { seedOf, seededRandom, shuffle } from './random.js';
import { type Frame, type ViewPlan, columnValues, findColumn, selectRows } from './view.js';

export interface SplitOptions {
  /** Seed of the shuffle: the same seed on the same view gives the same splits. Default: random. */
  readonly seed?: number;
  /** Splits each value of this column separately, so every split keeps the column's proportions. */
  readonly stratifyBy?: string;
}

/**
 * Sizes of each part of `n` rows: the largest-remainder rounding of `n × fraction`, so the parts
 * add up to round(n × Σ fractions) and every row is placed when the fractions sum to 1.
 */
function sizes(n: number, fractions: readonly number[]): number[] {
  const total = Math.min(n, Math.round(n * fractions.reduce((a, b) => a + b, 0)));
  const exact = fractions.map((f) => n * f);
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => i).sort((a, b) => exact[b] - out[b] - (exact[a] - out[a]) || a - b);
  for (let r = total - out.reduce((a, b) => a + b, 0), i = 0; r > 0; r--, i++) out[order[i % order.length]]++;
  return out;
}

/** For each part, the positions of `frame` it gets (ascending). */
function assign(positions: number[][], fractions: readonly number[], seed: number): number[][] {
  const random = seededRandom(seed);
  const parts = fractions.map((): number[] => []);
  for (const group of positions) {
    const shuffled = shuffle(group, random);
    let at = 0;
    sizes(group.length, fractions).forEach((k, p) => {
      parts[p].push(...shuffled.slice(at, at + k));
      at += k;
    });
  }
  return parts.map((p) => p.sort((a, b) => a - b));
}

/**
 * Disjoint random parts of the view, by name (`{ train: 0.8, val: 0.2 }`); each is a view in the
 * view's row order. With `stratifyBy` every value of that column (null included) is split on its own.
 */
export function split<K extends string>(
  plan: ViewPlan,
  fractions: Readonly<Record<K, number>>,
  options: SplitOptions = {},
): Record<K, ViewPlan> {
  const names = Object.keys(fractions) as K[];
  const values = names.map((k) => fractions[k]);
  if (names.length === 0 || values.some((f) => !(f >= 0)) || values.reduce((a, b) => a + b, 0) > 1 + 1e-9) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `split: expected fractions >= 0 adding up to at most 1, got ${JSON.stringify(fractions)}`,
      {
        hint: 'write split({ train: 0.8, val: 0.2 }, { seed: 1 })',
      },
    );
  }
  const seed = seedOf(options.seed);
  const strat = options.stratifyBy === undefined ? undefined : findColumn(plan, options.stratifyBy, 'split');
  let shared: Promise<number[][]> | undefined;
  const parts = async (frame: Frame, signal?: AbortSignal): Promise<number[][]> => {
    if (!strat) return assign([Array.from(frame.rows.keys())], values, seed);
    const v = await columnValues(plan.core, frame, strat, signal);
    const groups = new Map<unknown, number[]>();
    v.forEach((x, j) => {
      const key = ArrayBuffer.isView(x) || Array.isArray(x) ? JSON.stringify(x) : x;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(j);
    });
    return assign([...groups.values()], values, seed);
  };
  const out = {} as Record<K, ViewPlan>;
  names.forEach((name, p) => {
    out[name] = strat
      ? selectRows(plan, async (frame, signal) => {
          shared ??= parts(frame, signal);
          shared.catch(() => (shared = undefined));
          return (await shared)[p];
        })
      : selectRows(plan, (frame) => assign([Array.from(frame.rows.keys())], values, seed)[p], true);
  });
  return out;
}
