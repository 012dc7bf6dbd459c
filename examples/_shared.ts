/**
 * Helpers shared by the examples: a work directory (a temp dir, or $STRATA_EXAMPLES_DIR), the sample
 * data (datasets/generate.ts) and the small ONNX model the project builds itself
 * (datasets/models/onnx-builder.ts), numbered steps with timings, and exit codes (non-zero on failure).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateSampleData, type SampleDataOptions } from '../datasets/generate.js';
import { EDGE_ORIENTATION_FILE, edgeOrientationModel } from '../datasets/models/edge-orientation.js';
import { writeModel } from '../datasets/models/onnx-builder.js';

export interface Workspace {
  readonly dir: string;
  /** Removes the directory unless it came from STRATA_EXAMPLES_DIR or STRATA_KEEP=1. */
  cleanup(): Promise<void>;
}

/** A fresh directory for one example: `$STRATA_EXAMPLES_DIR/<name>` or a temp dir. */
export async function workspace(name: string): Promise<Workspace> {
  const base = process.env.STRATA_EXAMPLES_DIR;
  if (base) {
    const dir = resolve(base, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return { dir, cleanup: () => Promise.resolve() };
  }
  const dir = await mkdtemp(join(tmpdir(), `strata-${name}-`));
  return {
    dir,
    cleanup: () => (process.env.STRATA_KEEP ? Promise.resolve() : rm(dir, { recursive: true, force: true })),
  };
}

/** Writes the sample data (images, videos, labels, event log) to `<dir>/sample`; returns that path. */
export async function sampleData(dir: string, options: SampleDataOptions = {}): Promise<string> {
  const out = join(dir, 'sample');
  await generateSampleData(out, options);
  return out;
}

export { MODEL_DIM, MODEL_INPUT, edgeOrientationModel } from '../datasets/models/edge-orientation.js';

export async function buildModel(dir: string): Promise<string> {
  const path = join(dir, 'models', EDGE_ORIENTATION_FILE);
  await writeModel(path, edgeOrientationModel());
  return path;
}

let stepNo = 0;
let stepsTotal = 0;

/** Declares how many steps `step()` will count (for `[3/9]` labels). */
export function plan(total: number): void {
  stepsTotal = total;
  stepNo = 0;
}

/** Runs one numbered step, printing its name, then its time. */
export async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  stepNo++;
  const label = stepsTotal ? `[${stepNo}/${stepsTotal}]` : `[${stepNo}]`;
  process.stderr.write(`\n${label} ${title}\n`);
  const t0 = performance.now();
  const out = await fn();
  process.stderr.write(`${label} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return out;
}

/** A progress line for `onProgress` callbacks (stderr, at most every 250 ms plus the last one). */
export function progress(label: string): (p: { done: number; total?: number }) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    const final = p.total !== undefined && p.done >= p.total;
    if (!final && now - last < 250) return;
    last = now;
    process.stderr.write(`    ${label}: ${p.done}${p.total !== undefined ? `/${p.total}` : ''}\n`);
  };
}

/** Runs an example: exit 0 on success; on failure one line (`CODE: message`) and exit 1. */
export function run(name: string, main: () => Promise<void>): void {
  const t0 = performance.now();
  main().then(
    () => {
      process.stderr.write(`\n${name}: ok in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      process.exit(0);
    },
    (err: unknown) => {
      const e = err as { code?: string; message?: string; stack?: string };
      process.stderr.write(`\n${name}: FAILED: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(err)}\n`);
      if (process.env.STRATA_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
      process.exit(1);
    },
  );
}

/** Throws when a check an example relies on does not hold (examples double as smoke tests). */
export function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(`check failed: ${what}`);
}
