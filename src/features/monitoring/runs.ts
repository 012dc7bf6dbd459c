/**
 * Statistics runs of feature views, stored in the repo: `<dir>/.strata/stats/<view>/<run id>.json`
 * (a sharded run: one `<run id>.shard-<i>-of-<n>.json` per shard). Each file holds the view, the run
 * id, the job kind, the time, the row count and per-feature `ColumnStatistics` JSON. Reading merges
 * a run's shard files into one run (sketches merge exactly, so the result equals one pass).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../../errors.js';
import type { ColumnStatsJson } from '../../stats/column.js';
import { ColumnStatistics } from '../../stats/statistics.js';

export const STATS_DIR = join('.strata', 'stats');

/** Jobs that record statistics runs. */
export const STATISTICS_RUN_KINDS = ['materialize', 'backfill', 'training'] as const;
export type StatisticsRunKind = (typeof STATISTICS_RUN_KINDS)[number];

/** One recorded run of a view's statistics (a sharded run's shards merged). */
export interface StatisticsRun {
  readonly view: string;
  readonly runId: string;
  readonly kind: StatisticsRunKind;
  /** When the run (its last shard) finished. */
  readonly time: Date;
  /** Rows the statistics cover (all shards). */
  readonly rows: number;
  /** Shards recorded, e.g. `['0/2', '1/2']`; empty for an unsharded run. */
  readonly shards: readonly string[];
  /** The job's time range (epoch ms), when it has one. */
  readonly startMs?: number;
  readonly endMs?: number;
  /** Feature (or output column) name → its statistics. */
  readonly features: Readonly<Record<string, ColumnStatistics>>;
}

/** What a job hands over to be stored (one shard's or the whole run's statistics). */
export interface StatisticsRunRecord {
  readonly view: string;
  readonly runId: string;
  readonly kind: StatisticsRunKind;
  readonly rows: number;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly startMs?: number;
  readonly endMs?: number;
  readonly features: Readonly<Record<string, ColumnStatistics>>;
}

export interface StatisticsQueryOptions {
  /** Only runs of this kind (or of these kinds). */
  readonly kind?: StatisticsRunKind | readonly StatisticsRunKind[];
  /** Only the run with this id. */
  readonly runId?: string;
  /** At most this many runs (latest first); only these runs' statistics are read. */
  readonly limit?: number;
}

interface RunFile {
  readonly format: 1;
  readonly view: string;
  readonly runId: string;
  readonly kind: StatisticsRunKind;
  readonly time: string;
  readonly rows: number;
  readonly shard?: string;
  readonly startMs?: number;
  readonly endMs?: number;
  readonly features: Record<string, ColumnStatsJson>;
}

/** What a run id may look like (it becomes a file name). */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A new run id: the UTC time (sortable) plus 6 random hex digits, e.g. `20261207T234700123Z-a1b2c3`. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Checks a caller-given run id (it becomes a file name). */
export function checkRunId(runId: string): string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId) || runId.includes('.shard-'))
    throw new StrataError('INVALID_ARGUMENT', `run id ${JSON.stringify(runId)} is not usable`, {
      field: 'runId',
      hint: 'use letters, digits, ".", "_" and "-" (up to 128), starting with a letter or digit',
    });
  return runId;
}

/** Stores one run (or shard) file atomically; returns its path. */
export async function writeRun(dir: string, rec: StatisticsRunRecord, now = new Date()): Promise<string> {
  checkRunId(rec.runId);
  const vdir = join(dir, STATS_DIR, rec.view);
  await mkdir(vdir, { recursive: true });
  const shard = rec.shard && rec.shard.count > 1 ? `${rec.shard.index}/${rec.shard.count}` : undefined;
  const body: RunFile = {
    format: 1,
    view: rec.view,
    runId: rec.runId,
    kind: rec.kind,
    time: now.toISOString(),
    rows: rec.rows,
    ...(shard ? { shard } : {}),
    ...(rec.startMs !== undefined && Number.isFinite(rec.startMs) ? { startMs: rec.startMs } : {}),
    ...(rec.endMs !== undefined && Number.isFinite(rec.endMs) ? { endMs: rec.endMs } : {}),
    features: Object.fromEntries(Object.entries(rec.features).map(([k, s]) => [k, s.toJSON()])),
  };
  const name = shard ? `${rec.runId}.shard-${rec.shard!.index}-of-${rec.shard!.count}.json` : `${rec.runId}.json`;
  const file = join(vdir, name);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(body));
  await rename(tmp, file);
  return file;
}

async function readRunFile(file: string): Promise<RunFile> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as RunFile;
    if (j.format !== 1 || typeof j.runId !== 'string' || typeof j.features !== 'object') throw new Error('bad shape');
    return j;
  } catch (err) {
    throw new StrataError('CORRUPT', `statistics run file ${file} is unreadable`, {
      file,
      cause: err,
      hint: 'delete the file; the next materialization records a new run',
    });
  }
}

type RunHeader = Omit<RunFile, 'features'>;

/** Bytes read for a run file's header (every field before `features`, which JSON.stringify writes last). */
const HEADER_BYTES = 4096;

/**
 * A run file's header without parsing its statistics: the head of the file up to `"features":`.
 * A file whose head does not parse is read whole (so a corrupt file is CORRUPT, as before).
 */
async function readRunHeader(file: string): Promise<RunHeader> {
  try {
    const fh = await open(file, 'r');
    let head: string;
    try {
      const buf = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
      head = buf.toString('utf8', 0, bytesRead);
    } finally {
      await fh.close();
    }
    const end = head.indexOf(',"features":');
    if (end > 0) {
      const h = JSON.parse(`${head.slice(0, end)}}`) as RunHeader;
      if (h.format === 1 && typeof h.runId === 'string' && typeof h.time === 'string') return h;
    }
  } catch {
    // fall through to the whole file, which names what is wrong
  }
  const { features: _features, ...header } = await readRunFile(file);
  return header;
}

/**
 * The runs of one view (or every view), latest first, shard files merged per run. The files' headers
 * pick the runs; only the picked runs' statistics are read (with `runId` or `limit`, a few files).
 */
export async function readRuns(
  dir: string,
  view: string | undefined,
  options: StatisticsQueryOptions = {},
): Promise<StatisticsRun[]> {
  const root = join(dir, STATS_DIR);
  const views = view !== undefined ? [view] : await readdir(root).catch(() => [] as string[]);
  const kinds = options.kind === undefined ? undefined : ([] as StatisticsRunKind[]).concat(options.kind);
  const picked: { time: number; runId: string; files: string[] }[] = [];
  for (const v of views) {
    const vdir = join(root, v);
    const names = (await readdir(vdir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
    const groups = new Map<string, { time: number; runId: string; files: string[] }>();
    for (const n of names) {
      const h = await readRunHeader(join(vdir, n));
      if (kinds && !kinds.includes(h.kind)) continue;
      if (options.runId !== undefined && h.runId !== options.runId) continue;
      const g = groups.get(h.runId) ?? { time: -Infinity, runId: h.runId, files: [] };
      g.time = Math.max(g.time, Date.parse(h.time));
      g.files.push(join(vdir, n));
      groups.set(h.runId, g);
    }
    picked.push(...groups.values());
  }
  picked.sort((a, b) => b.time - a.time || (a.runId < b.runId ? 1 : -1));
  const chosen = options.limit !== undefined ? picked.slice(0, Math.max(0, options.limit)) : picked;
  const out: StatisticsRun[] = [];
  for (const g of chosen) out.push(mergeFiles(await Promise.all(g.files.map(readRunFile))));
  return out;
}

function mergeFiles(files: readonly RunFile[]): StatisticsRun {
  const features: Record<string, ColumnStatistics> = {};
  let rows = 0;
  let time = 0;
  let startMs: number | undefined;
  let endMs: number | undefined;
  const shards: string[] = [];
  for (const f of files) {
    rows += f.rows;
    time = Math.max(time, Date.parse(f.time));
    if (f.shard) shards.push(f.shard);
    if (f.startMs !== undefined) startMs = Math.min(startMs ?? Infinity, f.startMs);
    if (f.endMs !== undefined) endMs = Math.max(endMs ?? -Infinity, f.endMs);
    for (const [name, json] of Object.entries(f.features)) {
      const s = ColumnStatistics.fromJSON(json);
      if (features[name]) features[name].merge(s);
      else features[name] = s;
    }
  }
  const first = files[0];
  return {
    view: first.view,
    runId: first.runId,
    kind: first.kind,
    time: new Date(time),
    rows,
    shards: shards.sort(),
    ...(startMs !== undefined ? { startMs } : {}),
    ...(endMs !== undefined ? { endMs } : {}),
    features,
  };
}
