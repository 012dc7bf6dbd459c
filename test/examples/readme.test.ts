/**
 * The README tour cannot drift: its TypeScript blocks are extracted in order into one module inside
 * the repository (`strata` mapped to src/ by a tsconfig path, as the package's own name resolves for
 * a user), type-checked with `tsc --strict` and run against the sample data that the README's set-up
 * command writes (`npx tsx datasets/generate.ts`, here into a temp folder). The shell blocks run too:
 * the set-up command, every command of the CLI reference (`--help`) and the "try S3 locally" recipe;
 * the install commands are what `.ci/run` itself runs (`npm ci`/`npm test`, and the packed tarball
 * installed into an empty project by `.ci/pack-check.sh`).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { type ChildResult, childEnv, runChild } from '../helpers/child-process.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return runChild(process.execPath, args, { cwd, env: childEnv(env) });
}

/** The fenced blocks of one language, in order. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]);
}

let readme: string;
let dir: string;

beforeAll(async () => {
  readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(ROOT, '.tmp', 'readme-'));
  const toRoot = relative(dir, ROOT) || '.';
  await writeFile(join(dir, 'tour.ts'), blocks(readme, 'ts').join('\n'));
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: `${toRoot}/tsconfig.json`,
      compilerOptions: { strict: true, noEmit: true, paths: { strata: [`${toRoot}/src/index.ts`] } },
      include: ['tour.ts', `${toRoot}/src/**/*.d.ts`],
    }),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README', () => {
  it('reads like a product: about 1,200 words before the dependency table, with a TypeScript tour', () => {
    const head = readme.slice(0, readme.indexOf('## Dependencies'));
    expect(readme.indexOf('## Dependencies')).toBeGreaterThan(0);
    expect(head.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(1250);
    expect(blocks(readme, 'ts').length).toBeGreaterThanOrEqual(3);
  });

  it('the tour type-checks with tsc --strict', async () => {
    const r = await run([TSC, '-p', join(dir, 'tsconfig.json')], ROOT);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 180_000);

  it('the tour runs as written on the data its set-up command writes', async () => {
    const setup = blocks(readme, 'sh').flatMap((b) => b.split('\n').filter((l) => l.includes('datasets/generate.ts')));
    expect(setup.map((l) => l.replace(/\s*#.*$/, ''))).toEqual(['npx tsx datasets/generate.ts']);
    // The same script, writing to the tour's own folder instead of the clone's datasets/sample.
    await mkdir(join(dir, 'datasets'));
    const gen = await run(
      ['--import', TSX, join(ROOT, 'datasets', 'generate.ts'), join(dir, 'datasets', 'sample')],
      ROOT,
    );
    expect(gen.code, gen.stderr).toBe(0);
    const r = await run(['--import', TSX, join(dir, 'tour.ts')], dir, {
      TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'),
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    await using ds = await Dataset.open(join(dir, 'data', 'shapes'));
    expect(ds.length).toBe(60);
    expect(ds.schema.embedding.htype).toBe('embedding');
    expect(r.stdout).toContain('PRESENT');
  }, 180_000);

  it('the CLI reference names commands that exist, and each answers --help', async () => {
    const cli = blocks(readme, 'sh').find((b) => b.includes('strata ingest'))!;
    const commands = [...new Set([...cli.matchAll(/strata (\w+)/g)].map((m) => m[1]))];
    expect(commands.length).toBeGreaterThanOrEqual(9);
    for (const c of commands) {
      const r = await run([join(ROOT, 'bin', 'strata.js'), c, '--help'], ROOT);
      expect(r.code, `strata ${c} --help: ${r.stderr}`).toBe(0);
    }
  }, 180_000);

  it('the "try S3 locally" recipe runs as written (on a free port)', async () => {
    const recipe = blocks(readme, 'sh').find((b) => b.includes('s3rver'))!;
    const port = await freePort();
    const script = recipe.replaceAll('4568', String(port));
    // Its own process group, so the server it starts in the background goes when the test ends.
    const r = await new Promise<ChildResult>((resolve, reject) => {
      const env = childEnv();
      const child = spawn('bash', ['-c', script], {
        cwd: ROOT,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            // the group is gone already
          }
          resolve({ code, stdout, stderr });
        }, 200);
      });
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('SKIPPED');
    expect(r.stderr).toMatch(/08-s3: ok/);
  }, 180_000);
});
