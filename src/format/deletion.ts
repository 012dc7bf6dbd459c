import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { crc32c } from './checksum.js';
import { newDeletionKey } from './object-keys.js';

/** "STRD" */
const MAGIC = [0x53, 0x54, 0x52, 0x44];

/**
 * The deleted rows of one fragment: sorted, distinct physical row offsets. Maps between live
 * indexes (0 = the fragment's first row not deleted) and physical offsets by binary search.
 */
export class DeletionVector {
  constructor(readonly offsets: Uint32Array) {}

  get size(): number {
    return this.offsets.length;
  }

  /** Deleted offsets below `p`. */
  deletedBefore(p: number): number {
    let lo = 0;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(p: number): boolean {
    const j = this.deletedBefore(p);
    return j < this.offsets.length && this.offsets[j] === p;
  }

  /** Live rows before physical offset `p`. */
  liveBefore(p: number): number {
    return p - this.deletedBefore(p);
  }

  /** Physical offset of the live row with live index `k`. */
  physical(k: number): number {
    // offsets[j] - j (deleted rows before the j-th deleted one are j) is non-decreasing:
    // the answer is k plus the number of j with offsets[j] - j <= k.
    let lo = 0;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid] - mid <= k) lo = mid + 1;
      else hi = mid;
    }
    return k + lo;
  }

  /** This vector plus `added` offsets (sorted, distinct). */
  union(added: Iterable<number>): DeletionVector {
    const all = new Set<number>(this.offsets);
    for (const p of added) all.add(p);
    return new DeletionVector(Uint32Array.from([...all].sort((a, b) => a - b)));
  }
}

/** The deletion file: "STRD", u32 LE count, count sorted u32 LE offsets, u32 LE CRC32C of all bytes before it. */
export function encodeDeletion(v: DeletionVector): Uint8Array {
  const n = v.offsets.length;
  const out = new Uint8Array(12 + 4 * n);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(4, n, true);
  for (let j = 0; j < n; j++) dv.setUint32(8 + 4 * j, v.offsets[j], true);
  dv.setUint32(8 + 4 * n, crc32c(out.subarray(0, 8 + 4 * n)), true);
  return out;
}

/**
 * Decodes and validates a deletion file: magic, size, checksum, strictly increasing offsets below
 * `rows` and (when given) exactly `expected` of them. CORRUPT naming the key otherwise.
 */
export function decodeDeletion(bytes: Uint8Array, key: string, rows?: number, expected?: number): DeletionVector {
  const bad = (what: string): StrataError =>
    new StrataError('CORRUPT', `deletion file ${key} is damaged: ${what}`, {
      key,
      hint: 'open an earlier version (see versions()) or restore the file from a backup',
    });
  if (bytes.byteLength < 12 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('not a Strata deletion file');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(4, true);
  if (bytes.byteLength !== 12 + 4 * n) throw bad(`${bytes.byteLength} bytes for ${n} offsets`);
  if (dv.getUint32(8 + 4 * n, true) !== crc32c(bytes.subarray(0, 8 + 4 * n))) throw bad('checksum mismatch');
  if (expected !== undefined && n !== expected) throw bad(`${n} offsets where the manifest says ${expected}`);
  const offsets = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    offsets[j] = dv.getUint32(8 + 4 * j, true);
    if (j > 0 && offsets[j] <= offsets[j - 1]) throw bad(`offsets out of order at ${j}`);
    if (rows !== undefined && offsets[j] >= rows) throw bad(`offset ${offsets[j]} is past the fragment's ${rows} rows`);
  }
  return new DeletionVector(offsets);
}

export async function readDeletion(
  storage: Storage,
  key: string,
  check: { rows?: number; deleted?: number; signal?: AbortSignal } = {},
): Promise<DeletionVector> {
  return decodeDeletion(await storage.get(key, { signal: check.signal }), key, check.rows, check.deleted);
}

/** Writes `v` as a new deletion file (before any manifest references it); returns its key. */
export async function writeDeletion(storage: Storage, v: DeletionVector, signal?: AbortSignal): Promise<string> {
  const key = newDeletionKey();
  await storage.put(key, encodeDeletion(v), { signal, contentType: 'application/octet-stream' });
  return key;
}
