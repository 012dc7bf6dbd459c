/** The `DatasetReader` methods that read below the manifest: stored samples, stats and fragment coverage. */
import type { Sample } from '../format/chunk.js';
import { throwIfAborted } from '../errors.js';
import type { DatasetCore } from './core.js';
import { codecFor } from './htypes/index.js';
import type { ColumnInfo, FragmentCoverage, SampleRun } from './read.js';

export function columnInfo(core: DatasetCore, column: string): ColumnInfo {
  const c = core.columnManifest(column);
  return { ...c, spec: core.spec(column), media: codecFor(c.htype, column).media };
}

export async function readSamples(
  core: DatasetCore,
  column: string,
  rows: ArrayLike<number>,
  signal?: AbortSignal,
): Promise<(Sample | null)[]> {
  const reader = core.reader(column);
  const out = new Array<Sample | null>(rows.length);
  for (let j = 0; j < rows.length; j++) {
    throwIfAborted(signal, 'read');
    out[j] = await reader.sample(rows[j], signal);
  }
  return out;
}

export function scanSamples(
  core: DatasetCore,
  column: string,
  options: { start?: number; end?: number; signal?: AbortSignal; prefetchChunks?: number },
): AsyncGenerator<SampleRun> {
  const reader = core.reader(column);
  return reader.scan(options.start ?? 0, options.end ?? core.manifest.length, {
    signal: options.signal,
    prefetchChunks: options.prefetchChunks,
  });
}

/** Fragment files read at the same time (on S3 each is a request). */
const COVERAGE_READS = 32;

export async function fragmentCoverage(
  core: DatasetCore,
  column: string | undefined,
  options: { signal?: AbortSignal; only?: (fragmentId: number) => boolean },
): Promise<FragmentCoverage[]> {
  const { signal, only } = options;
  const version = core.version;
  const id = column === undefined ? undefined : core.columnManifest(column).id;
  const slots = (await version.allFragments(signal)).filter((slot) => !only || only(slot.ref.id));
  const files =
    id === undefined ? [] : await mapLimit(slots, COVERAGE_READS, (slot) => version.fragment(slot.ref, signal));
  return slots.map((slot, k) => ({
    id: slot.ref.id,
    start: slot.start,
    rows: slot.ref.rows - slot.ref.deleted,
    covered: id === undefined ? [] : (files[k].columns[id] ?? []).map((s) => ({ offset: s.offset, rows: s.rows })),
  }));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}
