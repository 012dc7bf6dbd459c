/**
 * The viewer page is built from src/serve/viewer/browser/ (scripts/build-viewer.ts, run by the vitest global
 * setup): the server serves those built files, finds them next to its compiled module, and the package carries them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/dataset/dataset.js';
import { startViewer, type Viewer } from '../../src/serve/viewer.js';
import { MONITOR_FILES, VIEWER_FILES, loadViewerFiles, viewerStaticDir } from '../../src/serve/viewer/assets.js';
import { makeViewerDataset } from './viewer-fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let ds: Dataset;
let viewer: Viewer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-viewer-bundle-'));
  ds = await makeViewerDataset(join(dir, 'ds'), 3);
  viewer = await startViewer(ds);
});

afterAll(async () => {
  await viewer?.close();
  await ds?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('viewer page files', () => {
  it('serves the esbuild bundle of the typed browser code as /app.js', async () => {
    const res = await viewer.app.inject({ method: 'GET', url: '/app.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('javascript');
    const js = res.body;
    expect(js).toBe(await readFile(join(viewerStaticDir(), 'app.js'), 'utf8'));
    // esbuild names each bundled module; the entry and its imports are all in the one file
    for (const m of ['main', 'dom', 'api', 'media']) expect(js).toContain(`// src/serve/viewer/browser/${m}.ts`);
    expect(js).not.toContain('String.raw');
    expect(js).not.toMatch(/^\s*(import|export)\s/m);
    expect(() => new Script(js, { filename: 'app.js' })).not.toThrow();
  });

  it('serves the page and its stylesheet from the same build', async () => {
    for (const f of VIEWER_FILES) {
      const res = await viewer.app.inject({ method: 'GET', url: f.path });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(f.type);
      expect(res.body).toBe(await readFile(join(viewerStaticDir(), f.file), 'utf8'));
    }
    const page = (await viewer.app.inject({ method: 'GET', url: '/' })).body;
    expect(page).toContain('<script src="/app.js">');
    expect(page).toContain('<link rel="stylesheet" href="/app.css" />');
  });

  it('looks for the files next to the compiled module, and in dist/ when running from the sources', () => {
    expect(viewerStaticDir('file:///pkg/dist/serve/viewer/assets.js')).toBe('/pkg/dist/serve/viewer/static');
    expect(viewerStaticDir('file:///repo/src/serve/viewer/assets.ts')).toBe('/repo/dist/serve/viewer/static');
  });

  it('refuses to start without a built page, saying what to run', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'strata-viewer-unbuilt-'));
    try {
      await expect(loadViewerFiles(empty)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { file: join(empty, 'index.html') },
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('is in the npm package', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const packed = new Set(pack.files.map((f) => f.path));
    for (const f of [...VIEWER_FILES, ...MONITOR_FILES]) expect(packed).toContain(`dist/serve/viewer/static/${f.file}`);
  });
});
