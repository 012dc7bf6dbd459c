/**
 * Mergeable statistics of one column of a view (src/stats): numeric columns as numbers, text, class
 * labels and booleans as categories, embeddings as vectors. Media and JSON columns have none.
 */
import { StrataError } from '../../errors.js';
import type { DType } from '../../format/dtype.js';
import { ColumnStatistics } from '../../stats/statistics.js';
import type { ColumnSpec } from '../schema.js';
import { type ViewPlan, columnValues, findColumn } from '../verbs/view.js';

const NUMERIC: ReadonlySet<DType> = new Set<DType>([
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float16',
  'float32',
  'float64',
]);

function statisticsFor(column: string, spec: ColumnSpec | undefined, values: readonly unknown[]): ColumnStatistics {
  if (!spec) {
    // a computed or joined column: its values say what it is
    const first = values.find((v) => v !== null && v !== undefined);
    if (typeof first === 'number' || typeof first === 'bigint') return ColumnStatistics.create('numeric');
    if (typeof first === 'string' || typeof first === 'boolean' || first === undefined)
      return ColumnStatistics.create('categorical');
  }
  if (spec?.htype === 'embedding') return ColumnStatistics.create('embedding', { dim: spec.dim });
  if (spec?.htype === 'text' || spec?.htype === 'class_label') return ColumnStatistics.create('categorical');
  if (spec?.htype === 'generic' && !(spec.shape && spec.shape.length > 0)) {
    if (spec.dtype === 'bool' || spec.dtype === 'string') return ColumnStatistics.create('categorical');
    if (NUMERIC.has(spec.dtype)) return ColumnStatistics.create('numeric');
  }
  throw new StrataError(
    'INVALID_ARGUMENT',
    `statistics: column ${column} (${spec?.htype ?? 'computed'}) has no statistics`,
    {
      column,
      hint: 'statistics cover scalar numbers, text, class labels, booleans and embeddings; for media use describe()',
    },
  );
}

/** Statistics of `column` over the view's rows. */
export async function columnStatistics(
  plan: ViewPlan,
  spec: ColumnSpec | undefined,
  column: string,
  signal?: AbortSignal,
): Promise<ColumnStatistics> {
  const col = findColumn(plan, column, 'statistics');
  if (spec) statisticsFor(column, spec, []);
  const frame = await plan.rows.resolve(plan.core, signal);
  const values = await columnValues(plan.core, frame, col, signal);
  return statisticsFor(column, spec, values).addAll(values);
}
