/** A seeded 32-bit PRNG (mulberry32): the same seed gives the same draws on every platform. */
export function seededRandom(seed: number): () => number {
  let a = Math.trunc(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
