import { prng } from '../../random.js';

/** A seeded 32-bit PRNG (src/random.ts, mulberry32): the same seed gives the same draws on every platform. */
export const seededRandom: (seed: number) => () => number = prng;

/** The first `k` entries of a seeded Fisher–Yates shuffle of `items` (all of them by default); `items` is shuffled in place. */
export function shuffle<T>(items: T[], random: () => number, k = items.length): T[] {
  for (let i = 0; i < k && i < items.length - 1; i++) {
    const j = i + Math.floor(random() * (items.length - i));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items.slice(0, k);
}

/** A seed from the options, or a random one when none is given. */
export function seedOf(seed: number | undefined): number {
  return seed ?? Math.floor(Math.random() * 2 ** 32);
}
