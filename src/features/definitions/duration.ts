/** Duration strings: `500ms`, `30s`, `30m`, `1h30m`, `1d`, `2w`, ISO `PT30M`, or a number of ms. */
import type { Duration } from './types.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds for a duration, or `undefined` when it cannot be read. */
export function parseDuration(d: Duration | undefined | null): number | undefined {
  if (typeof d === 'number') return Number.isFinite(d) ? d : undefined;
  if (typeof d !== 'string') return undefined;
  const s = d.trim().toLowerCase();
  if (s === '') return undefined;
  const iso = /^p(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?)?$/.exec(s);
  if (iso && s !== 'p' && s !== 'pt') {
    const [, dd, hh, mm, ss] = iso;
    return (Number(dd ?? 0) * 24 * 3600 + Number(hh ?? 0) * 3600 + Number(mm ?? 0) * 60 + Number(ss ?? 0)) * 1000;
  }
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s);
  if (!/^(?:\s*\d+(?:\.\d+)?\s*[a-z]+)+\s*$/.test(s)) return undefined;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  let total = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const unit = UNIT_MS[m[2]];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
  }
  return total;
}

/** Short label: 1800000 → `30m`, 5400000 → `1h30m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'lifetime';
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      const q = Math.floor(rest / size);
      parts.push(`${q}${unit}`);
      rest -= q * size;
    }
  }
  return parts.join('');
}

export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
