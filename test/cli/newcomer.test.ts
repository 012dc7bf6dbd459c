/** The CLI as a first-time user meets it: every problem listed, paths named, hints as flags, usage errors, quiet logs. */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleData } from '../../datasets/generate.js';
import { COMMANDS } from '../../src/cli/run.js';
import { cliHint } from '../../src/cli/hints.js';
import { errorCode, strata } from './run-cli.js';

const BAD_REPO = `project: shop
entities:
  - name: user
    join_keys: [user_id]
sources:
  - name: events
    kind: csv
    path: events.csv
feature_views:
  - name: user_activity
    entities: [usr]
    source: events
    aggregations:
      - { function: countt, window: 1h, name: events_1h }
      - { column: amount, function: sum, window: 1dd, name: spend_1d }
`;

let dir: string;
let sample: string;
let ds: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-newcomer-'));
  sample = join(dir, 'sample');
  ds = join(dir, 'shapes.strata');
  await generateSampleData(sample, { images: 24, videos: 0, events: 50 });
  const r = await strata(['ingest', sample, ds, '--table', 'labels.csv', '-q']);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('strata apply', () => {
  it('lists every problem of the definitions, as text and with --json', async () => {
    const repo = join(dir, 'bad-repo');
    await mkdir(repo);
    await copyFile(join(sample, 'events.csv'), join(repo, 'events.csv'));
    await writeFile(join(repo, 'strata.yaml'), BAD_REPO);
    const text = await strata(['apply', repo]);
    expect(text.code).toBe(1);
    expect(errorCode(text.stderr)).toBe('INVALID_ARGUMENT');
    expect(text.stderr).not.toMatch(/more problem/);
    for (const needle of ['strata.yaml:11', 'usr', 'strata.yaml:14', 'countt', 'strata.yaml:15', '1dd'])
      expect(text.stderr).toContain(needle);
    const json = await strata(['apply', repo, '--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { error: { code: string; problems: { line: number; field: string }[] } };
    expect(doc.error.code).toBe('INVALID_ARGUMENT');
    expect(doc.error.problems.map((p) => p.line)).toEqual([11, 14, 15]);
  });

  it('names a repository folder that does not exist', async () => {
    const r = await strata(['apply', './no-such-dir'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(errorCode(r.stderr)).toBe('NOT_FOUND');
    expect(r.stderr).toContain('no-such-dir');
  });
});

describe('hints speak the command line', () => {
  it('an ingest source with several tables suggests --table, not a JavaScript object', async () => {
    const r = await strata(['ingest', sample, join(dir, 'x.strata')]);
    expect(r.code).toBe(1);
    expect(errorCode(r.stderr)).toBe('INVALID_ARGUMENT');
    expect(r.stderr).toContain('--table');
    expect(r.stderr).not.toMatch(/[{}]/);
  });

  it('library option names become the command flags; code that has no flag becomes a pointer to --help', () => {
    return Promise.all([COMMANDS.ingest.load(), COMMANDS.embed.load(), COMMANDS.apply.load()]).then(
      ([{ command: i }, { command: e }, { command: a }]) => {
        expect(cliHint("pass { table: 'name.csv' }, or { layout: 'imagefolder' }", i)).toBe(
          'pass --table name.csv, or --layout imagefolder',
        );
        expect(cliHint('name it one of file, path, or pass { pathColumn }', i)).toBe(
          'name it one of file, path, or pass --path-column COL',
        );
        expect(
          cliHint("write to a new column (output: 'emb_v2'), or pass onLineageMismatch: 'new-column' to pick one", e),
        ).toBe('write to a new column (--output emb_v2), or pass --on-mismatch new-column to pick one');
        expect(cliHint('rename the view instead, or apply with { force: true } and rematerialize', a)).toBe(
          'rename the view instead, or apply with --force and rematerialize',
        );
        expect(cliHint('rename it, or pass imageColumn/videoColumn', i)).toBe('see strata ingest --help');
        expect(cliHint('replace or re-export the file, or skip this sample', i)).toBe(
          'replace or re-export the file, or skip this sample',
        );
      },
    );
  });
});

describe('number options', () => {
  it.each([
    [['head', '<ds>', '-n', 'abc'], '-n', '"abc"'],
    [['head', '<ds>', '-n', '-3'], '-n', '"-3"'],
    [['head', '<ds>', '-n', '1.5'], '-n', '"1.5"'],
    [['search', '<ds>', '--column', 'embedding', '--row', '0', '-k', '0'], '-k', '"0"'],
    [['embed', '<ds>', '--column', 'image', '--model', 'm.onnx', '--every-seconds', '0'], '--every-seconds', '"0"'],
    [['embed', '<ds>', '--column', 'image', '--model', 'm.onnx', '--batch-size', 'lots'], '--batch-size', '"lots"'],
    [['serve', '.', '--port', '70000'], '--port', '"70000"'],
  ])('%j is a usage error naming the option and the value (exit 2)', async (args, flagName, value) => {
    const r = await strata(args.map((a) => (a === '<ds>' ? ds : a)));
    expect(r.code, r.stderr).toBe(2);
    expect(errorCode(r.stderr)).toBe('INVALID_ARGUMENT');
    expect(r.stderr).toContain(`: ${flagName} must be`);
    expect(r.stderr).toContain(value);
  });
});

describe('progress on a non-terminal stderr', () => {
  it('ingest prints at most one line every few seconds, and JSON events with --json', async () => {
    const t0 = Date.now();
    const r = await strata(['ingest', sample, join(dir, 'progress.strata'), '--table', 'labels.csv']);
    const elapsedS = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ingest'));
    // The first update, then one line per 5 s at most, then the final line.
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2 + Math.floor(elapsedS / 5));
    const j = await strata(['ingest', sample, join(dir, 'progress-json.strata'), '--table', 'labels.csv', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const events = j.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { progress: string; done: number; total?: number; finished?: boolean });
    expect(events.every((e) => e.progress === 'ingest')).toBe(true);
    expect(events.at(-1)).toMatchObject({ done: 24, total: 24, finished: true });
    expect(JSON.parse(j.stdout)).toMatchObject({ ingested: 24 });
  });
});
