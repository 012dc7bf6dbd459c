/**
 * Runs bench/backfill-child.ts in a child process (`node --import tsx`) and returns its JSON line:
 * used by bench/features-backfill.ts and test/features/spill-rss.test.ts.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export interface BackfillChildOut {
  readonly events: number;
  readonly tiles: number;
  readonly count: number;
  readonly sum: number;
  readonly seconds: number;
  readonly partitions: number;
  readonly maxRssBytes: number;
}

/**
 * `kind`: a source kind (`arrow`, `csv`, `parquet`) or `idle`; `limit`: memoryLimitBytes or
 * `default`; `job`: `backfill` (tiles) or `latest` (latestValues, what materialize writes).
 */
export async function runBackfillChild(
  kind: string,
  file: string,
  limit: string,
  env?: NodeJS.ProcessEnv,
  job: 'backfill' | 'latest' = 'backfill',
): Promise<BackfillChildOut> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'backfill-child.ts'), kind, file, limit, job],
    { cwd: path.resolve(import.meta.dirname, '..'), maxBuffer: 1 << 20, ...(env ? { env } : {}) },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as BackfillChildOut;
}
