/**
 * `dataset` sources: a Strata dataset's tabular and embedding columns as feature data
 * (`path` = the dataset URI, `options.columns` / `options.version` optional). A dataset without the
 * source's timestamp column gets one: every row's event time is the commit time of the version read,
 * which is when those values became known. Class labels come as their names.
 */
import * as A from 'apache-arrow';
import { Dataset } from '../../dataset/dataset.js';
import { StrataError } from '../../errors.js';
import { toArrow } from '../../interop/arrow.js';
import type { Source } from '../definitions/types.js';
import type { SourceLoaderContext } from './registry.js';

const TABULAR_HTYPES = new Set(['class_label', 'text', 'json', 'generic', 'embedding', 'bbox']);

export async function readDatasetSource(source: Source, ctx: SourceLoaderContext): Promise<A.Table> {
  if (!source.path) {
    throw new StrataError('INVALID_ARGUMENT', `dataset source ${source.name} has no path`, {
      key: source.name,
      field: 'path',
      hint: 'set path to the dataset URI',
    });
  }
  const options = (source.options ?? {}) as { columns?: string[]; version?: number; s3?: Record<string, unknown> };
  await using ds = await Dataset.open(source.path, { version: options.version, s3: options.s3, signal: ctx.signal });
  const columns = options.columns ?? ds.columns.filter((c) => TABULAR_HTYPES.has(ds.columnInfo(c).htype));
  let table = await toArrow(ds, { columns, signal: ctx.signal });
  // Class labels are features by name, not by id.
  for (const c of columns) {
    const names = ds.columnInfo(c).htype === 'class_label' ? (ds.columnMeta(c).classNames as string[]) : undefined;
    if (!names) continue;
    const col = table.getChild(c)!;
    const ids = Array.from({ length: col.length }, (_, i) => col.get(i) as number | null);
    const labels = A.vectorFromArray(
      ids.map((id) => (id === null || id === undefined ? null : (names[id] ?? String(id)))),
      new A.Utf8(),
    );
    table = table.assign(new A.Table({ [c]: labels }));
  }
  const tsField = source.timestampField ?? 'event_timestamp';
  if (!table.schema.fields.some((f) => f.name === tsField)) {
    const ms = ds.versionInfo.timestampMs;
    const ts = A.vectorFromArray(
      Array.from({ length: table.numRows }, () => new Date(ms)),
      new A.TimestampMillisecond(),
    );
    table = table.assign(new A.Table({ [tsField]: ts }));
  }
  return table;
}
