/**
 * The LSD radix pass shared by the sort and tile kernels: sorts `keys[0..m)` (each < 2^bits) and
 * carries `perm` along, stably. Big inputs use 16-bit digits (fewer passes), small ones 11-bit
 * (cheaper histograms); a pass whose digit is the same for every key is skipped. Each pass moves
 * the data into the other buffer, so the result may be in either: use the returned buffers (the
 * two others are scratch for the next call). `hist` needs 65536 entries.
 */
export interface RadixBuffers<K extends Uint32Array, P extends Int32Array> {
  readonly keys: K;
  readonly perm: P;
  readonly keysTmp: K;
  readonly permTmp: P;
}

export function radixSortU32<K extends Uint32Array, P extends Int32Array>(
  keys: K,
  keysTmp: K,
  perm: P,
  permTmp: P,
  m: number,
  bits: number,
  hist: Int32Array,
): RadixBuffers<K, P> {
  const digit = m >= 16384 ? 16 : 11;
  const radix = 1 << digit;
  const mask = radix - 1;
  const np = Math.ceil(bits / digit);
  let ka = keys;
  let kb = keysTmp;
  let pa = perm;
  let pb = permTmp;
  for (let pass = 0, sh = 0; pass < np; pass++, sh += digit) {
    hist.fill(0, 0, radix);
    for (let j = 0; j < m; j++) hist[(ka[j] >>> sh) & mask]++;
    let single = false;
    for (let d = 0; d < radix; d++) {
      if (hist[d] !== 0) {
        single = hist[d] === m;
        break;
      }
    }
    if (single) continue;
    let sum = 0;
    for (let d = 0; d < radix; d++) {
      const h = hist[d];
      hist[d] = sum;
      sum += h;
    }
    for (let j = 0; j < m; j++) {
      const x = ka[j];
      const q = hist[(x >>> sh) & mask]++;
      kb[q] = x;
      pb[q] = pa[j];
    }
    const tk = ka;
    ka = kb;
    kb = tk;
    const tp = pa;
    pa = pb;
    pb = tp;
  }
  return { keys: ka, perm: pa, keysTmp: kb, permTmp: pb };
}
