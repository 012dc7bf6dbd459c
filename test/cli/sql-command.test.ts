import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { makeJpeg } from '../helpers/media.js';
import { errorCode, strata } from './run-cli.js';

let dir: string;
let uri: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-sql-'));
  uri = join(dir, 'pets.strata');
  const ds = await Dataset.create(uri, { schema: { image: 'image', label: 'text', score: 'float64' } });
  const labels = ['cat', 'dog', 'cat', 'say "hi", ok', null];
  for (let i = 0; i < labels.length; i++) {
    await ds.append({ image: await makeJpeg({ width: 10 + i, height: 8, seed: i }), label: labels[i], score: i / 2 });
  }
  await ds.commit('pets');
  await ds.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const Q = 'SELECT label, count(*)::INT AS n, sum(score) AS s FROM ds GROUP BY label ORDER BY label NULLS LAST';

describe('strata sql', () => {
  it('prints a table by default', async () => {
    const r = await strata(['sql', uri, Q]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['label', 'n', 's']);
    expect(lines[1].split(/\s+/)).toEqual(['cat', '2', '1']);
    expect(lines.at(-1)).toBe('(4 rows)');
  });

  it('--format json prints one object per row', async () => {
    const r = await strata(['sql', uri, Q, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { label: 'cat', n: 2, s: 1 },
      { label: 'dog', n: 1, s: 0.5 },
      { label: 'say "hi", ok', n: 1, s: 1.5 },
      { label: null, n: 1, s: 2 },
    ]);
  });

  it('--format csv quotes fields and shows media references', async () => {
    const r = await strata(['sql', uri, Q, '-f', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'label,n,s',
      'cat,2,1',
      'dog,1,0.5',
      '"say ""hi"", ok",1,1.5',
      ',1,2',
    ]);
    const m = await strata(['sql', uri, 'SELECT image.width AS w, image.format AS f FROM ds ORDER BY w', '-f', 'csv']);
    expect(m.stdout.trim().split('\n')).toEqual(['w,f', '10,jpeg', '11,jpeg', '12,jpeg', '13,jpeg', '14,jpeg']);
  });

  it('errors: bad format and missing query are usage errors, bad SQL and a missing dataset are typed', async () => {
    expect((await strata(['sql', uri, Q, '--format', 'xml'])).code).toBe(2);
    expect((await strata(['sql', uri])).code).toBe(2);
    const bad = await strata(['sql', uri, 'SELECT nope FROM ds']);
    expect(bad.code).toBe(1);
    expect(errorCode(bad.stderr)).toBe('INVALID_ARGUMENT');
    const missing = await strata(['sql', join(dir, 'none.strata'), Q]);
    expect(missing.code).toBe(1);
    expect(errorCode(missing.stderr)).toBe('NOT_FOUND');
  });
});
