import type { Command } from '../command.js';
import { UsageError, flag, str } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION } from '../open.js';
import { REPO_POSITIONAL, loadRepo, parseTime } from '../repo.js';

export const command: Command = {
  name: 'consistency',
  summary:
    "Compares the values a feature server logged (served-feature logging, strata.yaml logging:) with the point-in-time values the repository's offline sources give for the same entities at the logged request times, and prints the mismatch rate per feature. Exits 1 when a feature's mismatch rate is above --max-rate (default 0).",
  positionals: [REPO_POSITIONAL],
  options: {
    log: {
      type: 'string',
      value: 'URI',
      description: 'the served-feature log dataset (default: logging.dataset of strata.yaml)',
    },
    tolerance: {
      type: 'string',
      value: 'X',
      description: 'numbers equal when |a - b| <= X * max(1, |a|, |b|) (default 1e-6)',
    },
    'max-rate': {
      type: 'string',
      value: 'R',
      description: 'exit 1 when a feature mismatches in more than this fraction of values (default 0)',
    },
    since: { type: 'string', value: 'TIME', description: 'only requests logged at or after this time' },
    json: { ...JSON_OPTION, description: 'print the report as JSON' },
  },
  examples: [
    'strata consistency ./feature_repo',
    'strata consistency ./feature_repo --log s3://bucket/logs/served.strata --tolerance 1e-4 --json',
  ],
  async run(ctx) {
    const tolRaw = str(ctx, 'tolerance');
    const tolerance = tolRaw === undefined ? undefined : Number(tolRaw);
    if (tolerance !== undefined && !(tolerance >= 0))
      throw new UsageError(`strata consistency: --tolerance ${tolRaw} is not a number >= 0`, 'consistency');
    const maxRaw = str(ctx, 'max-rate');
    const maxRate = maxRaw === undefined ? 0 : Number(maxRaw);
    if (!(maxRate >= 0 && maxRate <= 1))
      throw new UsageError(`strata consistency: --max-rate ${maxRaw} is not a fraction from 0 to 1`, 'consistency');
    const sinceRaw = str(ctx, 'since');
    const since = sinceRaw === undefined ? undefined : parseTime(sinceRaw, 'since', 'consistency');
    const repo = await loadRepo(ctx);
    try {
      const log = str(ctx, 'log') ?? repo.logging?.dataset;
      if (log === undefined)
        throw new UsageError(
          'strata consistency: no --log given and strata.yaml has no logging.dataset',
          'consistency',
        );
      const { checkConsistency } = await import('../../online/consistency.js');
      const r = await checkConsistency(repo, log, {
        ...(tolerance !== undefined ? { tolerance } : {}),
        ...(since ? { sinceMs: since.getTime() } : {}),
        signal: ctx.signal,
      });
      if (flag(ctx, 'json')) ctx.out(json({ log, ...r }));
      else {
        ctx.out(
          table(
            ['feature', 'compared', 'mismatches', 'rate', 'online only', 'offline only'],
            r.features.map((f) => [
              f.feature,
              String(f.compared),
              String(f.mismatches),
              `${(f.mismatchRate * 100).toFixed(2)}%`,
              String(f.onlineOnly),
              String(f.offlineOnly),
            ]),
          ),
        );
        ctx.out(
          `${r.requests} requests, ${r.cells} logged values, ${r.mismatches} mismatches (tolerance ${r.tolerance})`,
        );
      }
      return r.features.some((f) => f.mismatchRate > maxRate) ? 1 : 0;
    } finally {
      await repo.close();
    }
  },
};
