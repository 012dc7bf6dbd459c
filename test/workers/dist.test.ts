/**
 * The workers started from compiled output, as a package install runs them: src is compiled with
 * TypeScript (the build's compiler options) into a temporary folder and a child `node` process
 * (no tsx) starts the kernel, inference and HNSW build workers from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { tinyModel } from '../embed/fixtures/data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

/** Compiles every file under src/ to `out` (one module a file, as `tsc -p tsconfig.build.json` emits them). */
async function compileSources(out: string): Promise<void> {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.build.json'), (p) => ts.sys.readFile(p));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const src = join(ROOT, 'src');
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      // an ESM package: NodeNext emits ES modules, which transpileModule (no package.json lookup) needs told
      compilerOptions: { ...options, module: ts.ModuleKind.ESNext, sourceMap: false, declaration: false },
      fileName: file,
    });
    const target = join(out, relative(src, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
}

const CHILD = `
import { readFileSync } from 'node:fs';
const [dist, modelPath] = process.argv.slice(2);
const warnings = [];
process.on('warning', (w) => warnings.push(w.code ?? w.name));
const pool = await import(dist + '/features/engine/pool.js');
const codes = pool.sharedI32(5);
codes.set([0, 1, 1, 3, 3]);
const ts = pool.sharedF64(5);
ts.set([1, 2, 3, 4, 5]);
const hist = pool.sharedI32(4);
const stats = pool.sharedF64(3);
await pool.runOnWorker('hist', { codes, ts, from: 0, to: 5, shift: 0, hist, stats });

const { WorkerPool } = await import(dist + '/embed/job-infer.js');
const { EmbeddingModel } = await import(dist + '/embed/model.js');
const bytes = readFileSync(modelPath);
const reference = await EmbeddingModel.load(bytes);
const workers = await WorkerPool.start(bytes, {
  inputName: reference.inputName, outputName: reference.outputName, uri: modelPath, workers: 1, intraOpThreads: 1,
});
const x = Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.sin(i * 0.37));
const got = await workers.run(x.slice(), 2, [3, 16, 16]);
const want = await reference.run(x, 2, [3, 16, 16]);
await workers.close();
await reference.close();

const { HnswIndex } = await import(dist + '/dataset/search/hnsw.js');
const v = Float32Array.from({ length: 5000 * 8 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
const index = await HnswIndex.build(v, 8, { threads: 2, M: 8, seed: 1 });
console.log(JSON.stringify({
  hist: Array.from(hist), warnings, infer: Array.from(got), want: Array.from(want), size: index.size,
}));
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-dist-workers-'));
  await compileSources(join(dir, 'dist'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await writeFile(join(dir, 'child.mjs'), CHILD);
}, 180_000); // compiling ~200 files on a busy machine
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('workers from compiled output', () => {
  it('a plain node process starts the kernel, inference and HNSW build workers from the compiled files', async () => {
    const model = await tinyModel(dir, 'rgb', { seed: 4, inputSize: 16, dim: 8 });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(dir, 'child.mjs'), join(dir, 'dist'), model.path],
      { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 50_000 },
    );
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as {
      hist: number[];
      warnings: string[];
      infer: number[];
      want: number[];
      size: number;
    };
    expect(r.warnings, 'the kernel worker loaded (no fallback to the main thread)').toEqual([]);
    expect(r.hist).toEqual([1, 2, 0, 2]);
    expect(r.infer.length).toBe(2 * 8);
    expect(r.infer).toEqual(r.want);
    expect(r.size).toBe(5000);
  });
});
