import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnReader } from '../../src/format/column-reader.js';
import { type Manifest, emptyManifest } from '../../src/format/manifest.js';
import { listVersionNumbers, publishManifest, readLatestManifest } from '../../src/format/versions.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { rowBytes } from './fixtures/writer.js';
import { rng } from '../helpers/random.js';

const WRITER = path.join(import.meta.dirname, 'fixtures', 'writer.ts');

function startWriter(uri: string, total: number, perCommit: number, writer: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WRITER, uri, String(total), String(perCommit), String(writer)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const ready = new Promise<void>((resolve) =>
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve()),
  );
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, ready, exit };
}

async function createTarget(storage: Storage): Promise<void> {
  const m: Manifest = {
    ...emptyManifest('test'),
    columns: [
      {
        name: 'data',
        id: 'c0',
        htype: 'generic',
        dtype: 'uint8',
        sampleCompression: 'none',
        chunkCompression: 'none',
        meta: {},
        length: 0,
        chunks: [],
      },
      {
        name: 'seq',
        id: 'c1',
        htype: 'generic',
        dtype: 'uint32',
        sampleCompression: 'none',
        chunkCompression: 'lz4',
        meta: {},
        length: 0,
        chunks: [],
      },
    ],
  };
  await publishManifest(storage, m);
}

/** Every committed row is whole and correct; returns the rows per writer in order. */
async function verify(storage: Storage): Promise<Map<number, number[]>> {
  const m = await readLatestManifest(storage);
  for (const c of m.columns) expect(c.length, `column ${c.name}`).toBe(m.length);
  const data = new ColumnReader(storage, m.columns[0]);
  const seq = new ColumnReader(storage, m.columns[1]);
  const perWriter = new Map<number, number[]>();
  let i = 0;
  for await (const run of data.scan()) {
    for (const s of run.samples) {
      const view = new DataView(s!.bytes.buffer, s!.bytes.byteOffset);
      const w = view.getUint32(0, true);
      const q = view.getUint32(4, true);
      expect(Buffer.from(s!.bytes).equals(Buffer.from(rowBytes(w, q))), `row ${i}`).toBe(true);
      const seqCell = await seq.sample(i);
      expect(new DataView(seqCell!.bytes.buffer, seqCell!.bytes.byteOffset).getUint32(0, true)).toBe(q);
      if (!perWriter.has(w)) perWriter.set(w, []);
      perWriter.get(w)!.push(q);
      i++;
    }
  }
  expect(i).toBe(m.length);
  return perWriter;
}

describe('crash safety and concurrent writers (local storage, real processes)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL at 30 random points leaves the dataset at its last commit, with no partial rows', async () => {
    const uri = path.join(dir, 'killed');
    const storage = await openStorage(uri);
    await createTarget(storage);
    const r = rng('kills');
    let kills = 0;
    let lastLength = 0;
    for (let round = 0; round < 30; round++) {
      // Each round resumes where the committed data ends (the writer's seq restarts at 0, so
      // we only check structure and bytes, not continuity, across rounds).
      const w = startWriter(uri, 100_000, 1 + Math.floor(r() * 20), round);
      await w.ready;
      await new Promise((res) => setTimeout(res, 20 + Math.floor(r() * 300)));
      w.child.kill('SIGKILL');
      const res = await w.exit;
      if (res.signal === 'SIGKILL') kills++;
      else expect(res.stderr).toBe('');
      const perWriter = await verify(storage);
      const m = await readLatestManifest(storage);
      expect(m.length).toBeGreaterThanOrEqual(lastLength);
      lastLength = m.length;
      // a writer's rows are a prefix 0..n-1 of its sequence: commits are all-or-nothing
      for (const seqs of perWriter.values()) expect(seqs).toEqual(seqs.map((_, k) => k));
    }
    expect(kills).toBeGreaterThanOrEqual(25);
    expect(lastLength).toBeGreaterThan(0);
    await storage.close();
  }, 300_000);

  it('two writer processes appending concurrently: every row lands exactly once', async () => {
    const uri = path.join(dir, 'concurrent');
    const storage = await openStorage(uri);
    await createTarget(storage);
    const a = startWriter(uri, 300, 3, 1);
    const b = startWriter(uri, 300, 5, 2);
    const [ra, rb] = await Promise.all([a.exit, b.exit]);
    expect(ra.stderr + rb.stderr).toBe('');
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const perWriter = await verify(storage);
    expect(perWriter.get(1)).toEqual(Array.from({ length: 300 }, (_, k) => k));
    expect(perWriter.get(2)).toEqual(Array.from({ length: 300 }, (_, k) => k));
    expect((await listVersionNumbers(storage)).length).toBe(1 + 100 + 60);
    await storage.close();
  }, 120_000);
});
