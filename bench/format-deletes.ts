/**
 * Format v2 deletes (issue 18): a scan of ROWS rows after 1% of them are deleted vs before
 * (`scan_ratio_after_deletes` = before / after), and one-row update commits (`point_update_ms`, p50).
 */
import { Dataset } from '../src/dataset/dataset.js';
import { readLatestAnyManifest } from '../src/format/latest.js';
import { TransactionV2 } from '../src/format/transaction-v2.js';
import { VersionColumnReader } from '../src/format/version-column-reader.js';
import { VersionReader } from '../src/format/version-reader.js';
import { openStorage } from '../src/storage/open.js';
import type { Storage } from '../src/storage/storage.js';

const ROWS = Number(process.env.STRATA_BENCH_DELETE_ROWS ?? 1_000_000);

async function scanMs(storage: Storage): Promise<number> {
  const ms: number[] = [];
  for (let t = 0; t < 5; t++) {
    const v = new VersionReader(storage, await readLatestAnyManifest(storage));
    const t0 = performance.now();
    let n = 0;
    for await (const run of new VersionColumnReader(v, v.column('n')).scan()) n += run.samples.length;
    ms.push(performance.now() - t0);
    if (n !== v.length) throw new Error(`scan saw ${n} of ${v.length} rows`);
  }
  return median(ms);
}

export async function deleteFigures(uri: string): Promise<Record<string, number>> {
  const ds = await Dataset.create(uri, { schema: { n: 'uint32' } });
  await ds.close();
  const storage = await openStorage(uri);
  const txn = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
    writer: 'bench',
    maxFragmentRows: 65_536,
  });
  for (let r = 0; r < ROWS; r++)
    await txn.appendRow({ n: { bytes: new Uint8Array(new Uint32Array([r]).buffer), shape: [] } });
  await txn.commit('rows');
  const before = await scanMs(storage);
  const del = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
    writer: 'bench',
  });
  for (let r = 0; r < ROWS; r += 100) await del.deleteRow(r + (((r / 100) * 37) % 100)); // 1%, spread
  await del.commit('delete 1%');
  const after = await scanMs(storage);
  await storage.close();
  const updates: number[] = [];
  const opened = await Dataset.open(uri, { cacheBytes: 0 });
  for (let t = 0; t < 7; t++) {
    const t0 = performance.now();
    await opened.update({ rowIds: [1 + t * 1000] }, { n: t });
    updates.push(performance.now() - t0);
  }
  await opened.close();
  return {
    scan_ms_before_deletes: round(before),
    scan_ms_after_deletes: round(after),
    scan_ratio_after_deletes: round(before / after),
    point_update_ms: round(median(updates)),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
