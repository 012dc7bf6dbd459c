import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';

let tmp = '';
beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-vacuum-temp-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

const DAY_MS = 24 * 3600 * 1000;

/** A temp file as a writer killed between write and rename leaves it, last modified `ageMs` ago. */
async function leftover(file: string, ageMs: number): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, new Uint8Array(1000));
  const t = new Date(Date.now() - ageMs);
  await fsp.utimes(file, t, t);
}

describe('vacuum and temporary files of killed local writers', () => {
  it('deletes .tmp-* files older than the retention window anywhere below the root, keeps fresh ones', async () => {
    const uri = path.join(tmp, 'ds');
    const ds = await Dataset.create(uri, { schema: { t: 'text' } });
    await ds.extend({ t: ['a', 'b'] });
    await ds.commit('two');
    await ds.close();
    const [columnDir] = await fsp.readdir(path.join(uri, 'chunks')); // the text column's chunks
    const chunkDir = path.join(uri, 'chunks', columnDir);
    expect((await fsp.readdir(chunkDir)).some((f) => f.endsWith('.chunk'))).toBe(true);
    const stale = [
      path.join(chunkDir, '.tmp-0123456789abcdef'),
      path.join(uri, 'versions', '.tmp-fedcba9876543210'),
      path.join(uri, '.tmp-00aa00aa00aa00aa'),
    ];
    const fresh = [path.join(chunkDir, '.tmp-1111111111111111'), path.join(uri, 'versions', '.tmp-2222222222222222')];
    for (const f of stale) await leftover(f, 8 * DAY_MS);
    for (const f of fresh) await leftover(f, 60_000);

    const opened = await Dataset.open(uri); // through the default byte cache
    const dry = await opened.vacuum({ dryRun: true });
    expect(dry.tempFilesDeleted).toBe(3);
    for (const f of stale) await expect(fsp.stat(f)).resolves.toBeTruthy();

    const result = await opened.vacuum();
    expect(result.tempFilesDeleted).toBe(3);
    expect(result.bytesFreed).toBeGreaterThanOrEqual(3000);
    for (const f of stale) await expect(fsp.stat(f)).rejects.toMatchObject({ code: 'ENOENT' });
    for (const f of fresh) await expect(fsp.stat(f)).resolves.toBeTruthy();
    expect(await opened.values('t')).toEqual(['a', 'b']);

    // A shorter retention makes the younger ones stale too.
    expect((await opened.vacuum({ retentionMs: 1000 })).tempFilesDeleted).toBe(2);
    for (const f of fresh) await expect(fsp.stat(f)).rejects.toMatchObject({ code: 'ENOENT' });
    await opened.close();
  });
});
