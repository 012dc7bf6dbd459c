/**
 * `dataset` sources: a Strata dataset's tabular and embedding columns as feature data
 * (`path` = the dataset URI, `options.columns` / `options.version` optional). A dataset without the
 * source's timestamp column gets one: every row's event time is the commit time of the version read,
 * which is when those values became known. Class labels come as their names.
 *
 * Read whole (`readDatasetSource`, interop's `toArrow`) or as a stream of record batches
 * (`datasetSourceBatches`, interop's `toArrowBatches`: cells read a batch at a time, so memory
 * follows the batch, not the dataset); both give the same columns and types.
 */
import * as A from 'apache-arrow';
import { Dataset } from '../../dataset/dataset.js';
import { StrataError } from '../../errors.js';
import { toArrow, toArrowBatches } from '../../interop/arrow.js';
import type { Source } from '../definitions/types.js';
import type { SourceLoaderContext } from './registry.js';

const TABULAR_HTYPES = new Set(['class_label', 'text', 'json', 'generic', 'embedding', 'bbox']);

interface DatasetSourceOptions {
  readonly columns?: string[];
  readonly version?: number;
  readonly s3?: Record<string, unknown>;
}

async function openSource(source: Source, ctx: SourceLoaderContext): Promise<{ ds: Dataset; columns: string[] }> {
  if (!source.path) {
    throw new StrataError('INVALID_ARGUMENT', `dataset source ${source.name} has no path`, {
      key: source.name,
      field: 'path',
      hint: 'set path to the dataset URI',
    });
  }
  const options = (source.options ?? {}) as DatasetSourceOptions;
  const ds = await Dataset.open(source.path, { version: options.version, s3: options.s3, signal: ctx.signal });
  const columns = options.columns ?? ds.columns.filter((c) => TABULAR_HTYPES.has(ds.columnInfo(c).htype));
  return { ds, columns };
}

/** The source's rows as record batches (`batchRows` rows each; Infinity: one batch of the whole dataset). */
export async function* datasetSourceBatches(
  source: Source,
  ctx: SourceLoaderContext,
  batchRows?: number,
): AsyncGenerator<A.RecordBatch> {
  const { ds, columns } = await openSource(source, ctx);
  try {
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    const tables: AsyncIterable<A.Table> =
      batchRows === Number.POSITIVE_INFINITY
        ? (async function* () {
            yield await toArrow(ds, { columns, ...signal });
          })()
        : (async function* () {
            for await (const b of toArrowBatches(ds, { columns, ...signal, ...(batchRows ? { batchRows } : {}) }))
              yield new A.Table(b);
          })();
    // Class labels are features by name, not by id.
    const classNames = new Map<string, string[]>();
    for (const c of columns)
      if (ds.columnInfo(c).htype === 'class_label') classNames.set(c, (ds.columnMeta(c).classNames as string[]) ?? []);
    const tsField = source.timestampField ?? 'event_timestamp';
    const commitMs = ds.versionInfo.timestampMs;
    for await (let table of tables) {
      for (const [c, names] of classNames) {
        const col = table.getChild(c)!;
        const labels = A.vectorFromArray(
          Array.from({ length: col.length }, (_, i) => {
            const id = col.get(i) as number | null;
            return id === null || id === undefined ? null : (names[id] ?? String(id));
          }),
          new A.Utf8(),
        );
        table = table.assign(new A.Table({ [c]: labels }));
      }
      if (!table.schema.fields.some((f) => f.name === tsField)) {
        const ts = A.vectorFromArray(
          Array.from({ length: table.numRows }, () => new Date(commitMs)),
          new A.TimestampMillisecond(),
        );
        table = table.assign(new A.Table({ [tsField]: ts }));
      }
      // a dataset without rows: one empty batch, so its columns are still known
      if (table.batches.length === 0) yield emptyBatch(table.schema);
      else yield* table.batches;
    }
  } finally {
    await ds.close();
  }
}

function emptyBatch(schema: A.Schema): A.RecordBatch {
  const children = schema.fields.map((f) => A.vectorFromArray([], f.type as A.DataType).data[0]);
  return new A.RecordBatch(
    schema,
    A.makeData({ type: new A.Struct(schema.fields), length: 0, nullCount: 0, children }),
  );
}

/** The whole source as one table. */
export async function readDatasetSource(source: Source, ctx: SourceLoaderContext): Promise<A.Table> {
  const batches: A.RecordBatch[] = [];
  for await (const b of datasetSourceBatches(source, ctx, Number.POSITIVE_INFINITY)) batches.push(b);
  return new A.Table(batches);
}

/**
 * A guess at the bytes the source's columns take once loaded: their stored bytes times 3 (chunks
 * are compressed; class labels become names), or 0 when the dataset cannot be opened here.
 */
export async function datasetSourceBytes(source: Source, ctx: SourceLoaderContext): Promise<number> {
  if (!source.path) return 0;
  let opened: { ds: Dataset; columns: string[] };
  try {
    opened = await openSource(source, ctx);
  } catch {
    return 0; // the loader reports the error when it reads the source
  }
  const { ds, columns } = opened;
  try {
    let bytes = 0;
    for (const c of columns)
      if (ds.hasColumn(c)) bytes += (await ds.columnStats(c, ctx.signal ? { signal: ctx.signal } : {})).bytes;
    return bytes * 3;
  } finally {
    await ds.close();
  }
}
