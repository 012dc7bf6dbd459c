import { StrataError } from '../../errors.js';
import { keyOf } from './aggregates.js';
import {
  type Frame,
  type Row,
  RowSource,
  type ViewColumn,
  type ViewPlan,
  columnValues,
  findColumn,
  viewColumns,
} from './view.js';

/** The right side of a join: records, an apache-arrow Table, or a loader of records (a dataset view). */
export type JoinSource =
  | ReadonlyArray<Readonly<Row>>
  | { toArray(): ArrayLike<{ toJSON(): Row }>; readonly schema: { readonly fields: readonly { name: string }[] } }
  | { readonly columns: readonly string[]; load(signal?: AbortSignal): Promise<Row[]> };

export interface JoinOptions {
  /** The key: one column name on both sides, or `[left, right]`. */
  readonly on: string | readonly [string, string];
  /** 'left' keeps every row of the view (nulls where nothing matches); 'inner' only matched ones. Default 'left'. */
  readonly how?: 'left' | 'inner';
}

let joins = 0;

function normalize(v: unknown): unknown {
  if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return Number(v);
  return keyOf(v);
}

/** The right side's column names (known when the view is built) and a loader of its rows. */
function sideOf(source: JoinSource): { names: string[]; load(signal?: AbortSignal): Promise<Row[]> } {
  if (Array.isArray(source)) {
    const names = new Set<string>();
    for (const r of source as Row[]) for (const k of Object.keys(r)) names.add(k);
    return { names: [...names], load: () => Promise.resolve(source as Row[]) };
  }
  if (source && typeof source === 'object' && 'schema' in source && typeof source.toArray === 'function') {
    const table = source;
    return {
      names: table.schema.fields.map((f) => f.name),
      load: () => Promise.resolve(Array.from(table.toArray(), (r) => r.toJSON())),
    };
  }
  if (source && typeof source === 'object' && 'load' in source) {
    return { names: [...source.columns], load: (signal) => source.load(signal) };
  }
  throw new StrataError('INVALID_ARGUMENT', 'join: expected a dataset, an apache-arrow Table or an array of records', {
    hint: "write join(records, { on: 'id' })",
  });
}

/**
 * The view joined with a table on a key column (SQL `LEFT JOIN` / `INNER JOIN ... USING`): each row
 * of the view is repeated once per matching row of the right side, whose other columns are added.
 * Null keys match nothing. CONFLICT when a right column (other than the key) is already in the view.
 */
export function join(plan: ViewPlan, source: JoinSource, options: JoinOptions): ViewPlan {
  const [leftKey, rightKey] = typeof options?.on === 'string' ? [options.on, options.on] : (options?.on ?? []);
  if (typeof leftKey !== 'string' || typeof rightKey !== 'string') {
    throw new StrataError('INVALID_ARGUMENT', 'join: options.on must name the key column', {
      hint: "write join(table, { on: 'id' }) or { on: ['id', 'image_id'] }",
    });
  }
  const how = options.how ?? 'left';
  if (how !== 'left' && how !== 'inner') {
    throw new StrataError('INVALID_ARGUMENT', `join: how must be 'left' or 'inner', got ${String(how)}`, {
      field: 'how',
    });
  }
  const keyCol = findColumn(plan, leftKey, 'join');
  const id = `join${++joins}`;
  const left = viewColumns(plan);
  const added = (names: string[]): ViewColumn[] => {
    const out = names.filter((n) => n !== rightKey);
    for (const n of out) {
      if (left.some((c) => c.name === n)) {
        throw new StrataError('CONFLICT', `join: column ${n} is on both sides`, {
          column: n,
          hint: 'rename or drop it on one side first',
        });
      }
    }
    return out.map((n) => ({ name: n, kind: 'extra', key: `${id}:${n}` }));
  };
  const side = sideOf(source);
  const joined = added(side.names);
  const resolve = async (signal?: AbortSignal): Promise<Frame> => {
    const frame = await plan.rows.resolve(plan.core, signal);
    const rows = await side.load(signal);
    const byKey = new Map<unknown, number[]>();
    rows.forEach((r, i) => {
      const k = normalize(r[rightKey]);
      if (k === null) return;
      let list = byKey.get(k);
      if (!list) byKey.set(k, (list = []));
      list.push(i);
    });
    const keys = await columnValues(plan.core, frame, keyCol, signal);
    const positions: number[] = [];
    const matched: (number | null)[] = [];
    keys.forEach((k, j) => {
      const hits = k === null || k === undefined ? undefined : byKey.get(normalize(k));
      for (const h of hits ?? (how === 'left' ? [null] : [])) {
        positions.push(j);
        matched.push(h);
      }
    });
    const extra = new Map<string, unknown[]>();
    for (const [k, v] of frame.extra)
      extra.set(
        k,
        positions.map((p) => v[p]),
      );
    for (const c of joined)
      extra.set(
        (c as { key: string }).key,
        matched.map((m) => (m === null ? null : (rows[m][c.name] ?? null))),
      );
    return { rows: Uint32Array.from(positions, (p) => frame.rows[p]), extra };
  };
  return { core: plan.core, rows: RowSource.pending(resolve), columns: [...left, ...joined] };
}
