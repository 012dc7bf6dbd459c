import type { Command } from '../command.js';
import { flag } from '../command.js';
import { formatBytes, json, table } from '../format.js';
import { JSON_OPTION, VERSION_OPTION, openDataset } from '../open.js';
import { INFO_SUFFIX, LINEAGE_SUFFIX } from '../../dataset/schema.js';

export interface ColumnInfo {
  readonly name: string;
  readonly htype: string;
  readonly dtype: string;
  readonly sampleCompression: string;
  readonly chunkCompression: string;
  readonly samples: number;
  readonly chunks: number;
  /** Stored bytes of the column's chunks (media columns include their info column). */
  readonly bytes: number;
  readonly meta: Readonly<Record<string, unknown>>;
}

export const command: Command = {
  name: 'info',
  summary:
    'Shows a dataset: schema, length, versions and the bytes each column takes (read from the manifest; no chunk is read).',
  positionals: [{ name: 'uri', description: 'dataset URI: a path, file://, s3://bucket/prefix, http(s)://' }],
  options: { json: JSON_OPTION, version: VERSION_OPTION },
  examples: ['strata info ./photos.strata', 'strata info s3://my-bucket/datasets/photos --json | jq .columns'],
  async run(ctx) {
    const ds = await openDataset(ctx, ctx.positionals[0], 'info');
    try {
      const m = ds.versionInfo;
      const versions = await ds.versions({ signal: ctx.signal });
      const byName = new Map(m.columns.map((c) => [c.name, c]));
      const columns: ColumnInfo[] = [];
      for (const name of ds.columns) {
        const c = byName.get(name)!;
        const info = byName.get(`${name}${INFO_SUFFIX}`);
        const stats = await ds.columnStats(name, { signal: ctx.signal });
        const infoBytes = info ? (await ds.columnStats(info.name, { signal: ctx.signal })).bytes : 0;
        // a derived column's per-row lineage (stamps) counts with it
        const stamps = byName.get(`${name}${LINEAGE_SUFFIX}`);
        const stampBytes = stamps ? (await ds.columnStats(stamps.name, { signal: ctx.signal })).bytes : 0;
        const bytes = stats.bytes + infoBytes + stampBytes;
        columns.push({
          name,
          htype: c.htype,
          dtype: c.dtype,
          sampleCompression: c.sampleCompression,
          chunkCompression: c.chunkCompression,
          samples: stats.storedRows,
          chunks: stats.chunks,
          bytes,
          meta: c.meta,
        });
      }
      const total = columns.reduce((s, c) => s + c.bytes, 0);
      const doc = {
        uri: ds.uri,
        version: ds.version,
        length: ds.length,
        bytes: total,
        writer: m.writer,
        timestampMs: m.timestampMs,
        message: m.message,
        versions: versions.map((v) => ({
          version: v.version,
          timestampMs: v.timestampMs,
          message: v.message,
          length: v.length,
        })),
        columns,
        meta: m.meta,
      };
      if (flag(ctx, 'json')) {
        ctx.out(json(doc));
        return;
      }
      ctx.out(`dataset   ${ds.uri}`);
      ctx.out(
        `version   ${ds.version} of ${versions.length} (${new Date(m.timestampMs).toISOString()}${m.message ? `, "${m.message}"` : ''})`,
      );
      ctx.out(`rows      ${ds.length}`);
      ctx.out(`size      ${formatBytes(total)} in ${columns.reduce((s, c) => s + c.chunks, 0)} chunks`);
      ctx.out('');
      ctx.out(
        table(
          ['column', 'htype', 'dtype', 'compression', 'samples', 'chunks', 'bytes', 'details'],
          columns.map((c) => [
            c.name,
            c.htype,
            c.dtype,
            c.sampleCompression !== 'none' ? c.sampleCompression : c.chunkCompression,
            String(c.samples),
            String(c.chunks),
            formatBytes(c.bytes),
            details(c),
          ]),
        ),
      );
    } finally {
      await ds.close();
    }
  },
};

function details(c: ColumnInfo): string {
  const m = c.meta as Record<string, unknown>;
  if (c.htype === 'class_label') {
    const names = (m.classNames as string[]) ?? [];
    return `${names.length} classes${names.length ? `: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}` : ''}`;
  }
  if (c.htype === 'embedding') {
    const lineage = (m.lineage ?? {}) as { model?: { sha256?: string }; sourceColumn?: string };
    const sha = lineage.model?.sha256;
    return `dim ${String(m.dim)}${lineage.sourceColumn ? ` from ${lineage.sourceColumn}` : ''}${sha ? `, model sha256 ${sha.slice(0, 12)}` : ''}`;
  }
  if (c.htype === 'bbox') return `${String(m.format)} ${String(m.coords)}`;
  if (c.htype === 'link') return `→ ${typeof m.target === 'string' ? m.target : 'file'}`;
  return '';
}
