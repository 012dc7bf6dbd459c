import { stat } from 'node:fs/promises';
import type { Command } from '../command.js';
import { StrataError } from '../../errors.js';
import { UsageError, flag, int, integerAtLeast, str } from '../command.js';
import { openOptions } from '../env.js';
import { json } from '../format.js';
import { JSON_OPTION } from '../open.js';
import { INGEST_LAYOUTS, type IngestLayout } from '../../ingest/index.js';
import { SHARD_OPTIONS, shardOf } from '../shard.js';

export const command: Command = {
  name: 'ingest',
  summary:
    'Ingests a local folder or an S3 prefix into a dataset (created when absent). Layouts: ImageFolder (<class>/<file> → image + label) or a CSV/JSONL/Parquet table mapping file paths to columns. Corrupt files are skipped and listed; re-running resumes (files already ingested are not added again).',
  positionals: [
    { name: 'src', description: 'source folder or s3://bucket/prefix' },
    { name: 'dst', description: 'dataset URI to write (path, s3://, memory:// is pointless here)' },
  ],
  options: {
    layout: {
      type: 'string',
      value: 'L',
      description: `${INGEST_LAYOUTS.join(' | ')} (default auto: a table when one sits at the root)`,
    },
    table: {
      type: 'string',
      value: 'FILE',
      description: 'table file below src mapping paths to columns (labels.csv, meta.parquet, ...)',
    },
    'path-column': {
      type: 'string',
      value: 'COL',
      description: 'table column holding file paths (default: file, path, image, ...)',
    },
    box: {
      type: 'string',
      value: 'NAME=L,T,R,B',
      multiple: true,
      description:
        'combine four table columns into one bbox column, e.g. boxes=bbox_left,bbox_top,bbox_right,bbox_bottom',
    },
    link: { type: 'boolean', description: 'store references to the files instead of their bytes' },
    concurrency: {
      type: 'string',
      value: 'N',
      description: 'files read and validated at once (default 8)',
      number: integerAtLeast(1),
    },
    'commit-every': {
      type: 'string',
      value: 'ROWS',
      description: 'commit every ROWS rows (default: once at the end)',
      number: integerAtLeast(1),
    },
    ...SHARD_OPTIONS,
    json: { ...JSON_OPTION, description: 'print the summary as JSON (ingested, skipped with reasons, version, ...)' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  hintFlags: { boxColumns: 'box', commitEveryRows: 'commit-every' },
  examples: [
    'strata ingest ./pets ./pets.strata',
    'strata ingest datasets/sample ./shapes.strata --table labels.csv --box boxes=bbox_left,bbox_top,bbox_right,bbox_bottom',
    'strata ingest s3://raw-bucket/pets s3://lake/pets --commit-every 10000 --json',
  ],
  async run(ctx) {
    const [src, dst] = ctx.positionals;
    const layout = str(ctx, 'layout');
    if (layout !== undefined && !(INGEST_LAYOUTS as readonly string[]).includes(layout)) {
      throw new UsageError(
        `strata ingest: --layout must be one of ${INGEST_LAYOUTS.join(', ')}, got ${JSON.stringify(layout)}`,
        'ingest',
      );
    }
    const boxColumns: Record<string, [string, string, string, string]> = {};
    for (const spec of (ctx.values.box as string[] | undefined) ?? []) {
      const m = /^([^=]+)=([^,]+),([^,]+),([^,]+),([^,]+)$/.exec(spec);
      if (!m) throw new UsageError(`strata ingest: --box ${JSON.stringify(spec)} is not NAME=L,T,R,B`, 'ingest');
      boxColumns[m[1]] = [m[2], m[3], m[4], m[5]];
    }
    const concurrency = int(ctx, 'concurrency', 'ingest', 8, 1);
    const shard = shardOf(ctx);
    const every = ctx.values['commit-every'] === undefined ? undefined : int(ctx, 'commit-every', 'ingest', 0, 1);
    openOptions(src, ctx.env);
    openOptions(dst, ctx.env);
    const { parseUri } = await import('../../storage/open.js');
    const parsed = parseUri(src);
    if (
      parsed.scheme === 'file' &&
      !(await stat(parsed.path).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    ) {
      throw new StrataError('NOT_FOUND', `source folder ${parsed.path} does not exist`, {
        file: parsed.path,
        hint: 'pass a folder of images/videos (or with a table), or an s3:// prefix',
      });
    }
    const { ingest } = await import('../../ingest/index.js');
    const bar = ctx.progress('ingest', 'files');
    let skipped = 0;
    const summary = await ingest(src, dst, {
      ...(layout ? { layout: layout as IngestLayout } : {}),
      table: str(ctx, 'table'),
      pathColumn: str(ctx, 'path-column'),
      ...(Object.keys(boxColumns).length ? { boxColumns } : {}),
      link: flag(ctx, 'link'),
      concurrency,
      ...(shard ? { shard } : {}),
      ...(str(ctx, 'job-id') !== undefined ? { jobId: str(ctx, 'job-id') } : {}),
      ...(every !== undefined ? { commitEveryRows: every } : {}),
      onProgress: (p) => {
        skipped = p.skipped ?? skipped;
        bar.update(p.done, p.total);
      },
      signal: ctx.signal,
    }).catch((err: unknown) => {
      bar.fail();
      throw err;
    });
    bar.done(skipped ? `${skipped} skipped` : undefined);
    if (flag(ctx, 'json')) {
      ctx.out(json(summary));
      return;
    }
    if (summary.staged !== undefined) {
      const id = str(ctx, 'job-id');
      ctx.out(
        summary.staged === 'exists'
          ? `this shard of job ${id} was staged before; nothing to do`
          : `staged ${summary.ingested} rows for job ${id} (not published: run \`strata job commit ${summary.uri} ${id}\` once every shard is staged)`,
      );
    } else
      ctx.out(
        `ingested ${summary.ingested} rows into ${summary.uri} (version ${summary.version}, ${(summary.bytes / 1e6).toFixed(1)} MB in ${summary.seconds.toFixed(1)} s, ${summary.commits} commit${summary.commits === 1 ? '' : 's'})` +
          (summary.alreadyPresent ? `; ${summary.alreadyPresent} already present` : ''),
      );
    if (summary.skipped.length) {
      ctx.out(`skipped ${summary.skipped.length}:`);
      for (const s of summary.skipped.slice(0, 50)) ctx.out(`  ${s.file}: ${s.reason}`);
      if (summary.skipped.length > 50) ctx.out(`  … and ${summary.skipped.length - 50} more (use --json for all)`);
    }
  },
};
