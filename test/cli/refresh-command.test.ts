/** `strata refresh`: recomputes the stale rows of an embedding column, as a user runs it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dataset/dataset.js';
import { embed } from '../../src/embed/job.js';
import { makeJpeg } from '../helpers/media.js';
import { maxRelDiff, referenceEmbeddings, tinyModel } from '../embed/fixtures/data.js';
import { errorCode, strata } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-refresh-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('strata refresh', () => {
  it('recomputes exactly the updated rows of an embedding column with the lineage model; then nothing', async () => {
    const model = await tinyModel(dir, 'm', { seed: 3, inputSize: 16, dim: 8 });
    const uri = join(dir, 'photos.strata');
    const images = await Promise.all(
      Array.from({ length: 12 }, (_, i) => makeJpeg({ width: 16, height: 16, seed: i })),
    );
    const fresh = await Promise.all([100, 101, 102].map((seed) => makeJpeg({ width: 16, height: 16, seed })));
    {
      await using ds = await Dataset.create(uri, { schema: { image: 'image', id: 'int32' } });
      await ds.append(images.map((image, id) => ({ image, id })));
      await ds.commit('images');
      await embed(ds, { column: 'image', model: model.path, preprocess: { size: 16 } });
      for (const [k, id] of [2, 5, 9].entries()) await ds.update({ id }, { image: fresh[k] });
      await ds.derive('twice', (r) => (r.id as number) * 2, { persist: true, inputs: ['id'] });
      expect(await ds.staleRows('embedding')).toHaveLength(3);
    }
    const r = await strata(['refresh', uri, 'embedding', '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ column: 'embedding', stale: 3, recomputed: 3, cleared: 0 });
    {
      await using ds = await Dataset.open(uri);
      expect(await ds.staleRows('embedding')).toEqual([]);
      const ids = (await ds.values('id')) as number[];
      const vs = (await ds.values('embedding')) as Float32Array[];
      const ref = await referenceEmbeddings(fresh, model.weights, { size: 16 });
      for (const [k, id] of [2, 5, 9].entries()) expect(maxRelDiff(vs[ids.indexOf(id)], ref[k])).toBeLessThan(1e-4);
    }
    const again = await strata(['refresh', uri, 'embedding']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('no stale rows');

    // a derive column needs its function (code), a plain column is not derived
    const derived = await strata(['refresh', uri, 'twice']);
    expect(derived.code).toBe(1);
    expect(errorCode(derived.stderr)).toBe('INVALID_ARGUMENT');
    const plain = await strata(['refresh', uri, 'id']);
    expect(plain.code).toBe(1);
    expect(errorCode(plain.stderr)).toBe('UNSUPPORTED');
  });
});
