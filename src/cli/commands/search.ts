import { readFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { UsageError, flag, int, integerAtLeast, requireStr, str } from '../command.js';
import { json, table } from '../format.js';
import { JSON_OPTION, VERSION_OPTION, openDataset } from '../open.js';
import { render } from '../../dataset/ops/format.js';
import type { SearchQuery } from '../../dataset/search/dataset-search.js';
import { METRICS, type Metric } from '../../dataset/search/metrics.js';
import { embedSearchQuery } from '../../embed/query-embedder.js';
import { StrataError } from '../../errors.js';
import { loadTokenizer } from '../tokenizer.js';

export const command: Command = {
  name: 'search',
  summary:
    "Finds the rows nearest to a query in an embedding column: another row (--row), an image file embedded with the column's own model and preprocess from its lineage (--image), or a vector (--vector), or for text embedding columns a text (--text, with --tokenizer). Exact search, or the ANN index when one is current.",
  positionals: [{ name: 'uri', description: 'dataset URI' }],
  options: {
    column: { type: 'string', value: 'COL', description: 'embedding column (required)' },
    row: {
      type: 'string',
      value: 'N',
      description: 'query: the vector of row N (N itself is left out of the results)',
      number: integerAtLeast(0),
    },
    image: {
      type: 'string',
      value: 'FILE',
      description: 'query: an image file (jpeg/png/...), embedded like the column',
    },
    vector: { type: 'string', value: 'X,Y,…', description: 'query: a comma-separated vector' },
    text: { type: 'string', value: 'TEXT', description: 'query: a text, embedded like the column (needs --tokenizer)' },
    tokenizer: { type: 'string', value: 'MODULE', description: 'with --text: the module the column was embedded with' },
    k: { type: 'string', short: 'k', value: 'K', description: 'results (default 10)', number: integerAtLeast(1) },
    metric: { type: 'string', value: 'M', description: `${METRICS.join(' | ')} (default: the index's, else cosine)` },
    where: { type: 'string', value: 'JSON', description: 'only rows matching, e.g. {"label":"cat"}' },
    show: {
      type: 'string',
      value: 'A,B',
      description: 'columns to print next to each hit (default: the tabular ones)',
    },
    model: {
      type: 'string',
      value: 'FILE',
      description: 'the model, when the lineage path is not reachable (sha256 must match)',
    },
    exact: { type: 'boolean', description: 'ignore any ANN index' },
    json: JSON_OPTION,
    version: VERSION_OPTION,
  },
  hintFlags: { filter: 'where' },
  examples: [
    'strata search ./shapes.strata --column embedding --row 0 -k 5',
    'strata search ./shapes.strata --column embedding --image ./query.jpg -k 5 --json',
    'strata search ./captions.strata --column embedding --text "a red circle" --tokenizer ./tokenizer.mjs',
  ],
  async run(ctx) {
    const column = requireStr(ctx, 'column', 'search');
    const k = int(ctx, 'k', 'search', 10, 1);
    const given = ['row', 'image', 'vector', 'text'].filter((o) => ctx.values[o] !== undefined);
    if (given.length !== 1)
      throw new UsageError('strata search: give exactly one of --row, --image, --vector, --text', 'search');
    if (given[0] === 'text' && str(ctx, 'tokenizer') === undefined)
      throw new UsageError(
        'strata search: --text needs --tokenizer (the module the column was embedded with)',
        'search',
      );
    const tokenizerFile = str(ctx, 'tokenizer');
    const tokenizer = tokenizerFile === undefined ? undefined : await loadTokenizer(tokenizerFile);
    const metric = str(ctx, 'metric');
    if (metric !== undefined && !(METRICS as readonly string[]).includes(metric)) {
      throw new UsageError(`strata search: --metric must be one of ${METRICS.join(', ')}`, 'search');
    }
    let where: Record<string, unknown> | undefined;
    if (str(ctx, 'where') !== undefined) {
      try {
        where = JSON.parse(str(ctx, 'where')!) as Record<string, unknown>;
      } catch {
        throw new UsageError('strata search: --where must be a JSON object such as {"label":"cat"}', 'search');
      }
    }
    const ds = await openDataset(ctx, ctx.positionals[0], 'search');
    try {
      ds.columnInfo(column);
      let query: SearchQuery;
      let exclude: number | undefined;
      if (given[0] === 'row') {
        exclude = int(ctx, 'row', 'search', 0, 0);
        if (exclude >= ds.length)
          throw new StrataError(
            'INVALID_ARGUMENT',
            `row ${exclude} is out of range for ${ds.length} rows of ${ds.uri}`,
            { row: exclude },
          );
        query = { row: exclude };
      } else if (given[0] === 'image') {
        const file = str(ctx, 'image')!;
        try {
          query = { image: new Uint8Array(await readFile(file)) };
        } catch (cause) {
          throw new StrataError('NOT_FOUND', `cannot read query image ${file}`, {
            file,
            cause,
            hint: 'pass a readable image file',
          });
        }
      } else if (given[0] === 'text') {
        query = { text: str(ctx, 'text')! };
      } else {
        const v = str(ctx, 'vector')!
          .split(',')
          .map((x) => Number(x.trim()));
        if (v.length === 0 || v.some((x) => !Number.isFinite(x)))
          throw new UsageError('strata search: --vector must be comma-separated numbers', 'search');
        query = { vector: Float32Array.from(v) };
      }
      const hits = (
        await ds.search(column, query, {
          k: exclude === undefined ? k : k + 1,
          ...(metric ? { metric: metric as Metric } : {}),
          ...(where ? { filter: where } : {}),
          exact: flag(ctx, 'exact'),
          embedQuery: embedSearchQuery,
          ...(str(ctx, 'model') ? { model: str(ctx, 'model')! } : {}),
          ...(tokenizer ? { tokenizer } : {}),
          signal: ctx.signal,
          onWarning: (m) => ctx.err(`strata: warning: ${m}`),
        })
      )
        .filter((h) => h.row !== exclude)
        .slice(0, k);
      const show =
        str(ctx, 'show')
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ??
        ds.columns
          .filter((c) => !ds.columnInfo(c).media && ds.columnInfo(c).htype !== 'embedding' && c !== column)
          .slice(0, 6);
      const rows = [];
      for (const h of hits) {
        const r = await ds.select(show).row(h.row, { signal: ctx.signal });
        rows.push({ row: h.row, rowId: h.rowId, score: h.score, values: r });
      }
      if (flag(ctx, 'json')) {
        ctx.out(
          json({
            uri: ds.uri,
            version: ds.version,
            column,
            k,
            metric: metric ?? null,
            query: given[0] === 'row' ? { row: exclude } : given[0],
            results: rows.map((r) => ({ row: r.row, rowId: r.rowId, score: r.score, ...r.values })),
          }),
        );
        return;
      }
      ctx.out(
        table(
          ['rank', 'row', 'score', ...show],
          rows.map((r, i) => [
            String(i + 1),
            String(r.row),
            r.score.toFixed(4),
            ...show.map((c) => cellText(r.values[c])),
          ]),
        ),
      );
    } finally {
      await ds.close();
    }
  },
};

function cellText(v: unknown): string {
  const s = render(v); // media cells render as <image …> / <video …>
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}
