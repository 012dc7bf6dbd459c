/** The dataset commands as a user runs them: ingest → info/head/versions → embed → search → view. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { buildTextEncoder, buildTinyConvNet, writeModel } from '../../datasets/models/onnx-builder.js';
import { Dataset } from '../../src/dataset/dataset.js';
import { COMMANDS } from '../../src/cli/run.js';
import { errorCode, startServer, strata } from './run-cli.js';

/** The parts of `strata info --json` these tests read. */
interface InfoJson {
  length: number;
  version: number;
  bytes: number;
  versions: { version: number }[];
  columns: { name: string; bytes: number; meta: { lineage?: { model?: { sha256?: string } } } }[];
}

/** The parts of `strata search --json` these tests read. */
interface SearchJson {
  results: { row: number; score: number; label?: string }[];
}

let dir: string;
let sample: string;
let ds: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
  sample = join(dir, 'sample');
  ds = join(dir, 'shapes.strata');
  model = join(dir, 'tiny.onnx');
  await generateSampleData(sample, { images: 24, videos: 0, events: 50 });
  await writeModel(model, buildTinyConvNet({ seed: 3, inputSize: 32, dim: 16 }).bytes);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('strata (no command, help, unknown)', () => {
  it('prints the command list and exits 2 without a command', async () => {
    const r = await strata([]);
    expect(r.code).toBe(2);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(name);
  });

  it('--help of every command shows usage and an example', async () => {
    const results = await Promise.all(Object.keys(COMMANDS).map((c) => strata([c, '--help'])));
    results.forEach((r, i) => {
      const name = Object.keys(COMMANDS)[i];
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^strata ${name} `));
      expect(r.stdout, name).toMatch(/\nExamples?:\n {2}strata /);
    });
  });

  it('unknown command and unknown option are usage errors (exit 2, one line)', async () => {
    const a = await strata(['frobnicate']);
    expect(a.code).toBe(2);
    expect(errorCode(a.stderr)).toBe('INVALID_ARGUMENT');
    const b = await strata(['info', ds, '--bogus']);
    expect(b.code).toBe(2);
    expect(errorCode(b.stderr)).toBe('INVALID_ARGUMENT');
    const c = await strata(['head']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('missing <uri>');
  });
});

describe('dataset commands', () => {
  it('ingest builds a dataset from a folder + table and prints a JSON summary', async () => {
    const r = await strata([
      'ingest',
      sample,
      ds,
      '--table',
      'labels.csv',
      '--box',
      'boxes=bbox_left,bbox_top,bbox_right,bbox_bottom',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary: unknown = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ ingested: 24, skipped: [], version: 1, commits: 1 });
    // progress on stderr: JSON events with --json, the last one the summary
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1)!)).toMatchObject({
      progress: 'ingest',
      done: 24,
      finished: true,
    });
    const again = await strata([
      'ingest',
      sample,
      ds,
      '--table',
      'labels.csv',
      '--box',
      'boxes=bbox_left,bbox_top,bbox_right,bbox_bottom',
      '-q',
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('ingested 0 rows');
    expect(again.stdout).toContain('24 already present');
  });

  it('info shows schema, length, versions and bytes per column', async () => {
    const text = await strata(['info', ds]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/rows\s+24/);
    expect(text.stdout).toMatch(/image\s+image/);
    const r = await strata(['info', ds, '--json']);
    const info = JSON.parse(r.stdout) as InfoJson;
    expect(info).toMatchObject({ length: 24, version: 1 });
    expect(info.versions.map((v: { version: number }) => v.version)).toEqual([0, 1]);
    const image = info.columns.find((c) => c.name === 'image');
    expect(image?.bytes).toBeGreaterThan(24 * 500);
    expect(info.bytes).toBe(info.columns.reduce((s, c) => s + c.bytes, 0));
    expect(info.columns.find((c: { name: string }) => c.name === 'label')).toMatchObject({ htype: 'class_label' });
  });

  it('head prints a table, or JSON lines', async () => {
    const text = await strata(['head', ds, '-n', '3']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('<image 128×128×3');
    expect(text.stdout).toContain('[3 rows ×');
    const r = await strata(['head', ds, '-n', '2', '--json', '--columns', 'image,label,boxes']);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { boxes: number[][] });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ image: { kind: 'image', shape: [128, 128, 3] }, label: 'circle' });
    expect(rows[0].boxes[0]).toHaveLength(4);
    expect(Object.keys(rows[0])).toEqual(['image', 'label', 'boxes']);
    const bad = await strata(['head', ds, '-n', 'lots']);
    expect(bad.code).toBe(2);
  });

  it('versions lists versions', async () => {
    const r = await strata(['versions', ds, '--json']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as { versions: { length: number }[] };
    expect(v.versions.map((x: { length: number }) => x.length)).toEqual([0, 24]);
    const text = await strata(['versions', ds]);
    expect(text.stdout).toMatch(/^version\s+time\s+rows\s+message/);
  });

  it('embed writes an embedding column with lineage; a re-run is a no-op', async () => {
    const r = await strata([
      'embed',
      ds,
      '--column',
      'image',
      '--model',
      model,
      '--output',
      'embedding',
      '--normalize',
      '--batch-size',
      '8',
      '--commit-interval-ms',
      '0',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ column: 'embedding', embedded: 24, dim: 16, noop: false });
    // progress on stderr: JSON events with --json, the last one the summary
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1)!)).toMatchObject({
      progress: 'embed',
      done: 24,
      finished: true,
    });
    // --commit-interval-ms 0: a commit after each of the 3 batches
    const { versions } = JSON.parse((await strata(['versions', ds, '--json'])).stdout) as {
      versions: { message: string }[];
    };
    expect(versions.filter((v) => v.message.startsWith('embed image'))).toHaveLength(3);
    const again = await strata([
      'embed',
      ds,
      '--column',
      'image',
      '--model',
      model,
      '--output',
      'embedding',
      '--normalize',
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    const info = JSON.parse((await strata(['info', ds, '--json'])).stdout) as InfoJson;
    expect(info.columns.find((c) => c.name === 'embedding')?.meta.lineage?.model?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('search by row, by image file and by vector', async () => {
    const byRow = JSON.parse(
      (await strata(['search', ds, '--column', 'embedding', '--row', '0', '-k', '5', '--json'])).stdout,
    ) as SearchJson;
    expect(byRow.results).toHaveLength(5);
    expect(byRow.results.map((h: { row: number }) => h.row)).not.toContain(0);
    const scores = byRow.results.map((h: { score: number }) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // an image file is embedded like the column (lineage model + preprocess): same hits as its stored vector
    const image = join(sample, 'images', 'circle', 'circle_001.jpg');
    const byImage = JSON.parse(
      (await strata(['search', ds, '--column', 'embedding', '--image', image, '-k', '3', '--json'])).stdout,
    ) as SearchJson;
    const stored = (await strata(['head', ds, '-n', '24', '--json', '--columns', '_source,embedding'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { _source: string; embedding: number[] })
      .find((r) => r._source === 'images/circle/circle_001.jpg');
    const byStored = JSON.parse(
      (
        await strata([
          'search',
          ds,
          '--column',
          'embedding',
          '--vector',
          stored!.embedding.join(','),
          '-k',
          '3',
          '--json',
        ])
      ).stdout,
    ) as SearchJson;
    expect(byImage.results.map((h: { row: number }) => h.row)).toEqual(
      byStored.results.map((h: { row: number }) => h.row),
    );
    expect(byImage.results[0].score).toBeCloseTo(1, 4);
    const vec = Array.from({ length: 16 }, () => '0.25').join(',');
    const byVector = await strata(['search', ds, '--column', 'embedding', '--vector', vec, '-k', '3']);
    expect(byVector.code).toBe(0);
    expect(byVector.stdout).toMatch(/^rank\s+row\s+score/);
    const filtered = JSON.parse(
      (
        await strata([
          'search',
          ds,
          '--column',
          'embedding',
          '--row',
          '0',
          '-k',
          '3',
          '--where',
          '{"label":"square"}',
          '--json',
        ])
      ).stdout,
    ) as SearchJson;
    expect(filtered.results.every((h) => h.label === 'square')).toBe(true);
  });

  it('search errors: no query, two queries, wrong column, wrong dimension', async () => {
    expect((await strata(['search', ds, '--column', 'embedding'])).code).toBe(2);
    expect((await strata(['search', ds, '--column', 'embedding', '--row', '1', '--vector', '1'])).code).toBe(2);
    const col = await strata(['search', ds, '--column', 'nope', '--row', '1']);
    expect(col.code).toBe(1);
    expect(errorCode(col.stderr)).toBe('NOT_FOUND');
    const dim = await strata(['search', ds, '--column', 'embedding', '--vector', '1,2,3']);
    expect(errorCode(dim.stderr)).toBe('INVALID_ARGUMENT');
  });

  it('embed and search a text column with a tokenizer module', async () => {
    const words = ['[pad]', '[cls]', '[unk]', 'a', 'red', 'blue', 'circle', 'square', 'big', 'small'];
    const tok = join(dir, 'tokenizer.mjs');
    await writeFile(
      tok,
      `const ids = new Map(${JSON.stringify(words)}.map((w, i) => [w, i]));\n` +
        'export default (text) => [1, ...text.split(/\\s+/).filter(Boolean).map((w) => ids.get(w) ?? 2)];\n',
    );
    const captions = join(dir, 'captions.strata');
    const c = await Dataset.create(captions, { schema: { caption: 'text' } });
    await c.append(
      ['a red circle', 'a big blue square', 'a small red square', 'a blue circle'].map((caption) => ({ caption })),
    );
    await c.commit('captions');
    await c.close();
    const textModel = join(dir, 'text.onnx');
    await writeModel(textModel, buildTextEncoder({ seed: 2, vocab: words.length, width: 32, dim: 32 }).bytes);
    const r = await strata([
      'embed',
      captions,
      '--column',
      'caption',
      '--model',
      textModel,
      '--tokenizer',
      tok,
      '--tokenizer-name',
      'cli-words',
      '--json',
      '-q',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      embedded: 4,
      lineage: { preprocess: { kind: 'text', tokenizer: 'cli-words' } },
    });
    const hits: unknown = JSON.parse(
      (
        await strata([
          'search',
          captions,
          '--column',
          'embedding',
          '--text',
          'a red circle',
          '--tokenizer',
          tok,
          '-k',
          '2',
          '--json',
        ])
      ).stdout,
    );
    expect(hits).toMatchObject({ query: 'text', results: [{ row: 0, caption: 'a red circle' }, {}] });
    const noTok = await strata(['search', captions, '--column', 'embedding', '--text', 'a red circle']);
    expect(noTok.code).toBe(2);
    const badTok = await strata([
      'embed',
      captions,
      '--column',
      'caption',
      '--model',
      textModel,
      '--tokenizer',
      join(dir, 'missing.mjs'),
    ]);
    expect(errorCode(badTok.stderr)).toBe('NOT_FOUND');
  });

  it('view serves the page and API on 127.0.0.1 and stops on SIGTERM', async () => {
    const server = await startServer(['view', ds, '--port', '0']);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Strata viewer');
    const rows = (await (
      await fetch(`${server.url}/api/rows?limit=5&filter=${encodeURIComponent('{"label":"square"}')}`)
    ).json()) as { total: number; rows: { label: string }[] };
    expect(rows.total).toBe(8);
    expect(rows.rows.every((r) => r.label === 'square')).toBe(true);
    const thumb = await fetch(`${server.url}/api/thumb/image/0?size=64`);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const similar = (await (await fetch(`${server.url}/api/similar?row=0&k=3`)).json()) as { rows: unknown[] };
    expect(similar.rows).toHaveLength(3);
    const done = await server.stop();
    expect(done.code).toBe(0);
  });
});

describe('errors are one line with a code and exit 1', () => {
  it('a missing dataset is NOT_FOUND for every dataset command', async () => {
    const missing = join(dir, 'does-not-exist');
    const runs = await Promise.all([
      strata(['info', missing]),
      strata(['head', missing]),
      strata(['versions', missing]),
      strata(['search', missing, '--column', 'e', '--row', '0']),
      strata(['embed', missing, '--column', 'image', '--model', model]),
      strata(['view', missing]),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(errorCode(r.stderr)).toBe('NOT_FOUND');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('(');
    }
  });

  it('ingest from a missing folder, embed with a missing model, a bad S3 setting', async () => {
    const src = await strata(['ingest', join(dir, 'no-such-folder'), join(dir, 'x.strata'), '-q']);
    expect(src.code).toBe(1);
    expect(errorCode(src.stderr)).toBeDefined();
    const m = await strata(['embed', ds, '--column', 'image', '--model', join(dir, 'missing.onnx'), '-q']);
    expect(m.code).toBe(1);
    expect(errorCode(m.stderr)).toBe('NOT_FOUND');
    const s3 = await strata(['info', 's3://bucket/ds'], { env: { STRATA_S3_CHECKSUM: 'SOMETIMES' } });
    expect(s3.code).toBe(1);
    expect(errorCode(s3.stderr)).toBe('INVALID_ARGUMENT');
    expect(s3.stderr).toContain('STRATA_S3_CHECKSUM');
  });

  it('an invalid URI is INVALID_ARGUMENT', async () => {
    const r = await strata(['info', 'ftp://host/x']);
    expect(r.code).toBe(1);
    expect(errorCode(r.stderr)).toBe('INVALID_ARGUMENT');
  });

  it('writes nothing but the error line to stderr, and nothing to stdout', async () => {
    const r = await strata(['versions', join(dir, 'nothing')]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^strata: NOT_FOUND: no Strata dataset at .+ \(.+\)\n$/);
  });
});
