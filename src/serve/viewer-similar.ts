/** "Similar rows" for the viewer and `strata search`: `ds.search` (exact, or the ANN index when current) minus the query row. */
import type { Dataset } from '../dataset/dataset.js';
import type { DatasetHit, SearchQuery } from '../dataset/search/dataset-search.js';
import type { Metric } from '../dataset/search/metrics.js';
import { embedSearchQuery } from '../embed/query-embedder.js';

export function embeddingColumns(ds: Dataset): string[] {
  return ds.columns.filter((c) => ds.columnInfo(c).htype === 'embedding');
}

export interface SimilarOptions {
  readonly k: number;
  /** Default: the index's metric, else 'cosine'. */
  readonly metric?: Metric;
  /** Only these physical rows (e.g. a filtered view). */
  readonly within?: Uint32Array;
  /** Leave this physical row out (the query row itself). */
  readonly exclude?: number;
  readonly signal?: AbortSignal;
}

/** Nearest physical rows to `query` in `column`, best first (score: cosine/dot higher is better, l2 lower). */
export async function similarRows(
  ds: Dataset,
  column: string,
  query: SearchQuery,
  options: SimilarOptions,
): Promise<DatasetHit[]> {
  let filter: Uint8Array | undefined;
  if (options.within || options.exclude !== undefined) {
    filter = new Uint8Array(ds.length);
    if (options.within) for (const r of options.within) filter[r] = 1;
    else filter.fill(1);
    if (options.exclude !== undefined) filter[options.exclude] = 0;
  }
  const hits = await ds.search(column, query, {
    k: options.k,
    ...(options.metric ? { metric: options.metric } : {}),
    ...(filter ? { filter } : {}),
    signal: options.signal,
    embedQuery: embedSearchQuery,
    onWarning: () => undefined,
  });
  return options.exclude === undefined ? hits : hits.filter((h) => h.row !== options.exclude);
}
