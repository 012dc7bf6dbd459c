/** The viewer's query bar endpoint runs the same ds.sql path as the API and CLI. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/dataset/dataset.js';
import { startViewer, type Viewer } from '../../src/serve/viewer.js';
import type { ErrorResponse, SqlResponse } from '../../src/serve/viewer/wire.js';
import { makeViewerDataset } from './viewer-fixture.js';

let dir: string;
let ds: Dataset;
let viewer: Viewer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-viewer-sql-'));
  ds = await makeViewerDataset(join(dir, 'ds'), 9);
  viewer = await startViewer(ds);
});
afterAll(async () => {
  await viewer?.close();
  await ds?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function get(q: string, limit?: number) {
  const url = `/api/sql?q=${encodeURIComponent(q)}${limit ? `&limit=${limit}` : ''}`;
  return viewer.app.inject({ method: 'GET', url });
}

describe('GET /api/sql', () => {
  it('answers ds.sql as JSON rows (bigints as numbers, media references as objects)', async () => {
    const res = await get('SELECT label, count(*) AS n, min(image.width) AS w FROM ds GROUP BY label ORDER BY label');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<SqlResponse>()).toEqual({
      columns: ['label', 'n', 'w'],
      rows: [
        ['bird', 3, 160],
        ['cat', 3, 160],
        ['dog', 3, 160],
      ],
      total: 3,
    });
    const refs = await get('SELECT image FROM ds ORDER BY _rowid', 2);
    const body = refs.json<SqlResponse>();
    expect(body.total).toBe(9);
    expect(body.rows).toHaveLength(2);
    expect(body.rows[0][0]).toMatchObject({ column: 'image', width: 160, height: 120, format: 'jpeg' });
  });

  it('bad queries and limits are typed 400s', async () => {
    const bad = await get('SELECT nope FROM ds');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<ErrorResponse>().error.code).toBe('INVALID_ARGUMENT');
    expect((await get('  ')).statusCode).toBe(400);
    expect((await get('SELECT 1', 0)).statusCode).toBe(200); // limit 0 is "not given"
    expect((await viewer.app.inject({ method: 'GET', url: '/api/sql?q=SELECT%201&limit=-1' })).statusCode).toBe(400);
  });
});
