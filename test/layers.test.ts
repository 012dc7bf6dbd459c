/** CONTRIBUTING's layer diagram is true: no module imports from a layer above its own. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
/** The order of CONTRIBUTING.md (tables, workers and stats sit beside storage; ingest and interop beside dataset). */
const LAYERS: Record<string, number> = {
  storage: 0,
  tables: 0,
  workers: 0,
  stats: 0,
  format: 1,
  media: 2,
  dataset: 3,
  ingest: 3,
  interop: 3,
  embed: 4,
  features: 5,
  online: 6,
  serve: 7,
  cli: 8,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('layers', () => {
  it('CONTRIBUTING.md states the order this test checks', () => {
    const text = readFileSync(fileURLToPath(new URL('../CONTRIBUTING.md', import.meta.url)), 'utf8');
    const order = [...text.matchAll(/`src\/(\w+)`/g)].map((m) => m[1]).filter((l) => l in LAYERS);
    expect([...new Set(order)]).toEqual([
      'storage',
      'tables',
      'workers',
      'stats',
      'format',
      'media',
      'dataset',
      'ingest',
      'interop',
      'embed',
      'features',
      'online',
      'serve',
      'cli',
    ]);
  });

  it('every import in src/ goes to the same layer or one below', () => {
    const upward: string[] = [];
    for (const file of files(SRC)) {
      const from = relative(SRC, file).split('/')[0];
      if (!(from in LAYERS)) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const to = relative(SRC, resolve(dirname(file), m[1])).split('/')[0];
        if (to in LAYERS && LAYERS[to] > LAYERS[from]) upward.push(`${relative(SRC, file)} → ${m[1]}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no module outside src/dataset reaches into the internals of a dataset (it reads through DatasetReader)', () => {
    const reaching: string[] = [];
    for (const file of files(SRC)) {
      const path = relative(SRC, file);
      if (path.startsWith('dataset/')) continue;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/\.core\b(?!\()|\[\s*['"]core['"]\s*\]|\bcoreOf\b|dataset\/(internal|core)\.js/.test(line))
          reaching.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(reaching).toEqual([]);
  });
});
