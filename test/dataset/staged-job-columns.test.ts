/**
 * A staged job's shards that add the same column (addJobColumn: one id per job and name) publish one
 * column with every shard's fills and the union of their metadata; a key two shards set differently
 * is a CONFLICT at commitJob; a shard's parts are folded into its entry (last metadata wins).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { addJobColumn, stagePart } from '../../src/dataset/derived/for-jobs.js';

const mem = () => `memory://staged-cols-${randomBytes(6).toString('hex')}`;

async function twoFragments(uri: string): Promise<void> {
  const ds = await Dataset.create(uri, { schema: { id: 'int32' } });
  for (const f of [0, 1]) {
    await ds.append([0, 1, 2].map((k) => ({ id: f * 3 + k })));
    await ds.commit(`fragment ${f}`);
  }
  await ds.close();
}

/** Shard `index` of 2 adds `score` (metadata `meta`) and fills its fragment's rows, in `parts` parts. */
async function shard(uri: string, index: number, meta: Record<string, unknown>, parts = 0): Promise<void> {
  const ds = await Dataset.open(uri);
  const shard = { index, count: 2 };
  for (let p = 0; p <= parts; p++) {
    addJobColumn(ds, 'score', { htype: 'generic', dtype: 'float64' }, 'job');
    ds.setColumnMeta('score', { ...meta, [`part ${index}`]: p });
    // part p fills row p of the shard's fragment; the last one fills the rest
    const values = [index, index + 0.5, index + 0.25];
    if (p === parts) {
      await ds.fillRows('score', index * 3 + p, values.slice(p));
      await ds.stage(`shard ${index}`, { jobId: 'job', shard });
    } else {
      await ds.fillRows('score', index * 3 + p, [values[p]]);
      await stagePart(ds, `shard ${index} part ${p}`, 'job', shard, p);
    }
  }
  await ds.close();
}

describe('columns added by the shards of a staged job', () => {
  it('merge into one column: every shard’s fills, the union of their metadata, parts folded in', async () => {
    const uri = mem();
    await twoFragments(uri);
    await shard(uri, 0, { shared: 'x' }, 1);
    await shard(uri, 1, { shared: 'x' });
    const ds = await Dataset.open(uri);
    expect(ds.hasColumn('score')).toBe(false);
    await ds.commitJob('job');
    expect(await ds.values('score')).toEqual([0, 0.5, 0.25, 1, 1.5, 1.25]);
    expect(ds.columnMeta('score')).toMatchObject({ shared: 'x', 'part 0': 1, 'part 1': 0 });
    await ds.close();
  });

  it('a metadata key the shards set differently is a CONFLICT at commitJob', async () => {
    const uri = mem();
    await twoFragments(uri);
    await shard(uri, 0, { shared: 'x' });
    await shard(uri, 1, { shared: 'y' });
    const ds = await Dataset.open(uri);
    await expect(ds.commitJob('job')).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'shared' } });
    expect(ds.hasColumn('score')).toBe(false);
    await ds.close();
  });
});
