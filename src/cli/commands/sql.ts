import type { Table } from 'apache-arrow';
import '../../embed/sql-embed.js';
import type { Command } from '../command.js';
import { UsageError, str } from '../command.js';
import { json, plain, table } from '../format.js';
import { VERSION_OPTION, openDataset } from '../open.js';

const FORMATS = ['table', 'json', 'csv'] as const;

export const command: Command = {
  name: 'sql',
  summary:
    'Runs one SELECT over the dataset as table ds (DuckDB). Media columns are references (image.width, image.format); embed(model, image), decode_image, cosine, l2 are available.',
  positionals: [
    { name: 'uri', description: 'dataset URI' },
    { name: 'query', description: 'the SELECT statement (quote it)' },
  ],
  options: {
    format: {
      type: 'string',
      short: 'f',
      value: 'table|json|csv',
      description: 'output: an aligned table (default), JSON Lines (one object per row), or CSV with a header',
    },
    version: VERSION_OPTION,
  },
  examples: [
    `strata sql ./photos.strata "SELECT label, count(*) AS n FROM ds GROUP BY label ORDER BY n DESC"`,
    `strata sql ./photos.strata "SELECT _rowid, image.width FROM ds WHERE image.width > 1000" --format csv`,
    `strata sql ./photos.strata "SELECT _rowid, cosine(embed('model.onnx', image), embedding) AS c FROM ds" -f json`,
  ],
  async run(ctx) {
    const format = str(ctx, 'format') ?? 'table';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`strata sql: --format must be one of ${FORMATS.join(', ')}, got ${format}`, 'sql');
    }
    const query = ctx.positionals[1];
    if (!query?.trim()) throw new UsageError('strata sql: give the query after the dataset URI', 'sql');
    const ds = await openDataset(ctx, ctx.positionals[0], 'sql');
    try {
      const result = await ds.sql(query, { signal: ctx.signal });
      for (const line of render(result, format as (typeof FORMATS)[number])) ctx.out(line);
    } finally {
      await ds.close();
    }
  },
};

function rowsOf(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r: { toJSON(): Record<string, unknown> }) => plain(r.toJSON()) as Record<string, unknown>);
}

/** A cell as text: strings as is, null empty (table) or empty field (CSV), anything else as JSON. */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function render(t: Table, format: (typeof FORMATS)[number]): string[] {
  const names = t.schema.fields.map((f) => f.name);
  const rows = rowsOf(t);
  if (format === 'json') return rows.map((r) => json(r));
  const cells = rows.map((r) => names.map((n) => text(r[n])));
  if (format === 'csv') return [names, ...cells].map((r) => r.map(csvField).join(','));
  return [table(names, cells), `(${rows.length} row${rows.length === 1 ? '' : 's'})`];
}
