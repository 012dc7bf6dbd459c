import { throwIfAborted } from '../../errors.js';
import { type DecodedChunk, sampleAt } from '../../format/chunk.js';
import type { DatasetCore } from '../core.js';
import { columnsOf } from '../expr/ast.js';
import { checkFilter } from '../expr/check.js';
import { columnTyper } from '../expr/columns.js';
import { TRUE, compileFilter } from '../expr/evaluate.js';
import { parseExpression } from '../expr/parse.js';
import { pruneRows } from '../expr/prune.js';
import { codecFor } from '../htypes/index.js';

/** Above this fraction of the version's rows, a view with nothing pruned reads whole (cached) columns. */
const WHOLE_COLUMN_FRACTION = 0.5;

/**
 * Physical row indices of `rows` (a view over `columns`) for which the SQL-like expression `text`
 * is TRUE (see `parseExpression`). Chunks whose statistics refute a top-level conjunct are not read:
 * the predicate's columns are read only in the chunks holding candidate rows. INVALID_ARGUMENT
 * naming the position (and column) for a malformed or ill-typed expression.
 */
export async function filterByExpression(
  core: DatasetCore,
  rows: Uint32Array,
  columns: readonly string[],
  text: string,
  signal?: AbortSignal,
): Promise<Uint32Array> {
  const expr = parseExpression(text);
  const typer = columnTyper(core.manifest.columns, columns);
  checkFilter(expr, typer);
  const pruned = await pruneRows(core, expr, { signal });
  let candidates = rows;
  if (pruned.conditions.length > 0) {
    const keep = new Uint32Array(rows.length);
    let m = 0;
    for (let j = 0; j < rows.length; j++) if (pruned.candidates[rows[j]]) keep[m++] = rows[j];
    candidates = keep.slice(0, m);
  }
  // Whole (cached) columns when no chunk was ruled out and the view is most of the version;
  // otherwise only the chunks holding candidate rows are read.
  const whole = candidates.length === rows.length && rows.length > WHOLE_COLUMN_FRACTION * core.manifest.length;
  const values = new Map<string, ArrayLike<unknown>>();
  for (const c of columnsOf(expr)) {
    throwIfAborted(signal, 'filter');
    if (whole) {
      const all = await core.columnValues(c, signal);
      values.set(c, isIdentity(candidates, all.length) ? all : gather(all, candidates));
    } else {
      values.set(c, await valuesAt(core, c, candidates, signal));
    }
  }
  const result = compileFilter(expr, typer)({ n: candidates.length, column: (c) => values.get(c)! });
  const out = new Uint32Array(candidates.length);
  let n = 0;
  for (let j = 0; j < candidates.length; j++) if (result[j] === TRUE) out[n++] = candidates[j];
  return out.slice(0, n);
}

/** Decoded values of a tabular column at `positions` (any order), reading only the chunks holding them. */
async function valuesAt(
  core: DatasetCore,
  name: string,
  positions: Uint32Array,
  signal?: AbortSignal,
): Promise<unknown[]> {
  const c = core.columnManifest(name);
  const codec = codecFor(c.htype, name);
  const index = await core.reader(name).index(signal);
  const order = Array.from(positions.keys()).sort((a, b) => positions[a] - positions[b]);
  const out = new Array<unknown>(positions.length).fill(null);
  let k = -1;
  let chunk: DecodedChunk | undefined;
  for (const j of order) {
    const row = positions[j];
    const at = index.locate(row);
    if (at < 0) continue;
    if (at !== k) {
      throwIfAborted(signal, 'filter');
      k = at;
      chunk = await index.chunk(k, signal);
    }
    const sample = sampleAt(chunk!, index.offsetIn(k, row));
    out[j] = codec.decode(sample, { column: name, row, dtype: c.dtype, meta: c.meta });
  }
  return out;
}

function isIdentity(rows: Uint32Array, n: number): boolean {
  if (rows.length !== n) return false;
  for (let i = 0; i < n; i++) if (rows[i] !== i) return false;
  return true;
}

function gather(all: readonly unknown[], rows: Uint32Array): unknown[] {
  const out = new Array<unknown>(rows.length);
  for (let j = 0; j < rows.length; j++) out[j] = all[rows[j]];
  return out;
}
