/**
 * danfojs-node is an optional peer dependency: the core install holds neither danfo nor TensorFlow.js,
 * and `toDanfo()` without danfo installed is UNSUPPORTED, saying what to install.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Makes danfojs-node unresolvable, as in a project that did not install it (Node's own resolve hook). */
const HIDE_DANFO = `
  export async function resolve(specifier, context, next) {
    if (specifier === 'danfojs-node' || specifier.startsWith('danfojs-node/')) {
      const err = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
      err.code = 'ERR_MODULE_NOT_FOUND';
      throw err;
    }
    return next(specifier, context);
  }`;

describe('danfojs-node, an optional peer dependency', () => {
  it('toDanfo without danfojs-node installed is UNSUPPORTED and says what to install', async () => {
    const script = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HIDE_DANFO)}));
      const { Dataset } = await import(${JSON.stringify(path.join(root, 'src/index.ts'))});
      const ds = await Dataset.create('memory://no-danfo', { schema: { n: 'int32' } });
      await ds.append({ n: 1 });
      await ds.commit('one');
      const out = { arrow: (await ds.toArrow()).numRows };
      try {
        await ds.toDanfo();
        out.danfo = 'loaded';
      } catch (err) {
        out.code = err.code;
        out.hint = err.details?.hint;
        out.cause = err.details?.cause?.code;
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      overrides: Record<string, string>;
    };
    expect(out).toMatchObject({ arrow: 1, code: 'UNSUPPORTED', cause: 'ERR_MODULE_NOT_FOUND' });
    expect(out.hint).toContain('npm install danfojs-node');
    for (const [name, to] of Object.entries(pkg.overrides)) expect(out.hint).toContain(`"${name}":"${to}"`);
  });

  it('the core install (no dev dependencies) holds neither danfojs-node nor TensorFlow.js', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(pkg.peerDependenciesMeta['danfojs-node']).toEqual({ optional: true });
    expect(pkg.peerDependencies['danfojs-node']).toBeDefined();
    // npm marks every package only reachable through devDependencies with "dev": true.
    const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const heavy = Object.entries(lock.packages).filter(([p]) =>
      /(^|\/)node_modules\/(danfojs-node|@tensorflow\/[^/]+|xlsx)$/.test(p),
    );
    expect(heavy.length).toBeGreaterThan(0);
    expect(heavy.filter(([, meta]) => !meta.dev).map(([p]) => p)).toEqual([]);
  });
});
