import { describe, expect, it } from 'vitest';
import { readLatestAnyManifest } from '../../src/format/latest.js';
import { TransactionV2 } from '../../src/format/transaction-v2.js';
import { VersionColumnReader } from '../../src/format/version-column-reader.js';
import { VersionReader } from '../../src/format/version-reader.js';
import { openStorage } from '../../src/storage/open.js';
import type { ReadOptions, Storage } from '../../src/storage/storage.js';
import { CountingStorage } from '../helpers/counting-storage.js';
import { createV2 } from './v2-helpers.js';

const u32 = (n: number) => ({ bytes: new Uint8Array(new Uint32Array([n]).buffer), shape: [] });

/** Chunk reads wait until released (all at once, or each on the next turn with `auto`); counts those outstanding. */
class GatedStorage extends CountingStorage {
  readonly pending: (() => void)[] = [];
  readonly chunkKeys: string[] = [];
  auto = false;
  outstanding = 0;
  maxOutstanding = 0;
  override get(key: string, o?: ReadOptions) {
    if (!key.startsWith('chunks/')) return super.get(key, o);
    this.chunkKeys.push(key);
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    return new Promise<void>((resolve) => {
      if (this.auto) setImmediate(resolve);
      else this.pending.push(resolve);
    }).then(() => {
      this.outstanding--;
      return super.get(key, o);
    });
  }
  release(): void {
    this.auto = true;
    for (const r of this.pending.splice(0)) r();
  }
}

async function settle(until: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !until(); i++) await new Promise((r) => setImmediate(r));
}

describe('format v2 column scan read-ahead', () => {
  it('keeps prefetchChunks + 1 chunk reads in flight across fragment boundaries, never more, rows exact', async () => {
    const storage: Storage = await openStorage(`memory://v2-scan-${Date.now()}`);
    await createV2(storage);
    for (let c = 0; c < 8; c++) {
      const txn = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
        writer: 't',
      });
      for (let i = c * 2; i < c * 2 + 2; i++) await txn.appendRow({ seq: u32(i) });
      await txn.commit(`rows ${c * 2}..`); // one fragment, one seq chunk each
    }
    const del = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
      writer: 't',
    });
    await del.deleteRow(5);
    await del.commit('delete 5');
    const v = new VersionReader(storage, await readLatestAnyManifest(storage));
    const gated = new GatedStorage(storage);
    const reader = new VersionColumnReader(v, v.column('seq'), gated);
    const scan = reader.scan(0, v.length, { prefetchChunks: 2 });
    const first = scan.next();
    await settle(() => gated.pending.length >= 3);
    expect(gated.pending.length).toBe(3); // fragments 0, 1 and 2: each holds a single chunk
    expect(new Set(gated.chunkKeys).size).toBe(3);
    gated.release();
    const seq: number[] = [];
    const positions: number[] = [];
    for (let r = await first; !r.done; r = await scan.next()) {
      positions.push(r.value.start);
      for (const s of r.value.samples) seq.push(new DataView(s!.bytes.buffer, s!.bytes.byteOffset).getUint32(0, true));
    }
    expect(seq).toEqual(Array.from({ length: 16 }, (_, i) => i).filter((i) => i !== 5));
    expect(positions).toEqual([0, 2, 4, 5, 7, 9, 11, 13]);
    expect(gated.maxOutstanding).toBe(3);
    // a scan stopped early (break) returns cleanly with its read-ahead still in flight
    const starts: number[] = [];
    for await (const r of reader.scan(3, 9)) {
      starts.push(r.start);
      break;
    }
    expect(starts).toEqual([3]);
  });
});

describe('format v2 random sample reads', () => {
  it('sample(i) in any order, repeated, equals the scan, with fragments with and without deletions', async () => {
    const storage: Storage = await openStorage(`memory://v2-sample-${Date.now()}`);
    await createV2(storage);
    let next = 0;
    for (let c = 0; c < 6; c++) {
      const txn = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
        writer: 't',
        chunkSizeBytes: 8,
      });
      for (let k = 0; k < 3 + c; k++) await txn.appendRow({ seq: u32(next++) });
      await txn.commit(`fragment ${c}`);
    }
    const del = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
      writer: 't',
    });
    await del.deleteRow(4); // second fragment
    await del.deleteRow(20); // fifth fragment
    await del.commit('two deletes');
    const v = new VersionReader(storage, await readLatestAnyManifest(storage));
    const reader = new VersionColumnReader(v, v.column('seq'));
    const scanned: number[] = [];
    for await (const run of new VersionColumnReader(v, v.column('seq')).scan())
      for (const s of run.samples) scanned.push(new Uint32Array(s!.bytes.slice().buffer)[0]);
    expect(scanned.length).toBe(next - 2);
    expect(scanned).not.toContain(4);
    expect(scanned).not.toContain(20);
    const order = Array.from(scanned.keys()).sort((a, b) => ((a * 7919) % 31) - ((b * 7919) % 31) || a - b);
    for (const round of [0, 1])
      for (const i of [...order, ...order.reverse()]) {
        const s = await reader.sample(i);
        expect(new Uint32Array(s!.bytes.slice().buffer)[0], `round ${round} position ${i}`).toBe(scanned[i]);
      }
    expect(await reader.sample(scanned.length)).toBeNull();
  });
});
