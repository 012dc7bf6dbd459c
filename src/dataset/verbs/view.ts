import { StrataError, throwIfAborted } from '../../errors.js';
import type { DatasetCore } from '../core.js';

import type { Row } from '../row-types.js';
import type { ScalarType } from '../expr/check.js';

export type { Row };

/**
 * The rows of a resolved view: physical row numbers (repeats allowed) and the values of joined
 * columns, one per entry of `rows`.
 */
export interface Frame {
  readonly rows: Uint32Array;
  readonly extra: ReadonlyMap<string, readonly unknown[]>;
}

/**
 * One column of a view: a stored column (maybe under another name), joined values carried in
 * the frame, or a function of the view's earlier columns computed on read.
 */
export type ViewColumn =
  | { readonly name: string; readonly kind: 'stored'; readonly source: string }
  | { readonly name: string; readonly kind: 'extra'; readonly key: string }
  | {
      readonly name: string;
      readonly kind: 'computed';
      readonly prior: readonly ViewColumn[];
      readonly fn: (row: Row) => unknown;
      /** An expression's column: its scalar type, and its values for whole columns of `prior` at once. */
      readonly expr?: {
        readonly type: ScalarType | 'null';
        readonly vector: (n: number, inputs: readonly ArrayLike<unknown>[]) => unknown[];
      };
    }
  /**
   * A column of views concatenated across datasets or versions (`concat`): row r of the frame is
   * row r − offset of part k, read from that part's own view (and dataset).
   */
  | { readonly name: string; readonly kind: 'union'; readonly parts: readonly UnionPart[] };

/** One input of a `union` column: the part's view and its column of that name. */
export interface UnionPart {
  readonly plan: ViewPlan;
  readonly col: ViewColumn;
}

/** Where a view's rows come from: all rows of the open version, a known frame, or a pending computation. */
export class RowSource {
  private pending: Promise<Frame> | undefined;

  private constructor(
    private frame: Frame | undefined,
    private readonly compute: ((signal?: AbortSignal) => Promise<Frame>) | undefined,
  ) {}

  /** Every row of the open version (follows commits). */
  static all(): RowSource {
    return new RowSource(undefined, undefined);
  }

  static of(frame: Frame): RowSource {
    return new RowSource(frame, undefined);
  }

  static pending(compute: (signal?: AbortSignal) => Promise<Frame>): RowSource {
    return new RowSource(undefined, compute);
  }

  /** True for `all()`: the whole open version. */
  get whole(): boolean {
    return !this.frame && !this.compute;
  }

  /** The frame when it is known without reading anything. */
  known(core: DatasetCore): Frame | undefined {
    if (this.frame) return this.frame;
    if (!this.compute) return { rows: identity(core.manifest.length), extra: NO_EXTRA };
    return undefined;
  }

  /** Resolves (once: the result is cached; a failed or aborted resolution is retried next time). */
  resolve(core: DatasetCore, signal?: AbortSignal): Promise<Frame> {
    const k = this.known(core);
    if (k) return Promise.resolve(k);
    if (!this.pending) {
      const p = this.compute!(signal).then((f) => (this.frame = f));
      p.catch(() => (this.pending = undefined));
      this.pending = p;
    }
    return this.pending;
  }
}

/** What a view is: the dataset core, where its rows come from, and its columns (null: every visible stored column). */
export interface ViewPlan {
  readonly core: DatasetCore;
  readonly rows: RowSource;
  readonly columns: readonly ViewColumn[] | null;
}

export const NO_EXTRA: ReadonlyMap<string, readonly unknown[]> = new Map();

export function viewColumns(plan: ViewPlan): readonly ViewColumn[] {
  return plan.columns ?? plan.core.visibleColumns().map((name) => ({ name, kind: 'stored', source: name }) as const);
}

export function columnNames(plan: ViewPlan): string[] {
  return viewColumns(plan).map((c) => c.name);
}

/** The view column `name`; NOT_FOUND naming the view's columns otherwise. */
export function findColumn(plan: ViewPlan, name: string, op = 'column'): ViewColumn {
  const col = viewColumns(plan).find((c) => c.name === name);
  if (!col) {
    throw new StrataError('NOT_FOUND', `${op}: column ${name} is not in this view of ${plan.core.uri}`, {
      column: name,
      uri: plan.core.uri,
      hint: `columns are: ${columnNames(plan).join(', ') || '(none)'}`,
    });
  }
  return col;
}

/** The same view with other rows. */
export function withRows(plan: ViewPlan, rows: RowSource): ViewPlan {
  return { core: plan.core, rows, columns: plan.columns };
}

/** The same view with other columns. */
export function withColumns(plan: ViewPlan, columns: readonly ViewColumn[]): ViewPlan {
  return { core: plan.core, rows: plan.rows, columns };
}

/** The rows at `positions` of `frame` (joined values follow). */
export function pick(frame: Frame, positions: ArrayLike<number>): Frame {
  const rows = Uint32Array.from(positions, (p) => frame.rows[p]);
  const extra = new Map<string, unknown[]>();
  for (const [k, v] of frame.extra)
    extra.set(
      k,
      Array.from(positions, (p) => v[p]),
    );
  return { rows, extra };
}

/**
 * A view whose rows are positions of `plan`'s rows chosen by `choose`. It runs now when the input
 * rows are known and `choose` needs no data (`sync`), else on the first terminal.
 */
export function selectRows(
  plan: ViewPlan,
  choose: (frame: Frame, signal?: AbortSignal) => ArrayLike<number> | Promise<ArrayLike<number>>,
  sync = false,
): ViewPlan {
  const known = plan.rows.known(plan.core);
  if (sync && known) {
    const positions = choose(known) as ArrayLike<number>;
    return withRows(plan, RowSource.of(pick(known, positions)));
  }
  return withRows(
    plan,
    RowSource.pending(async (signal) => {
      const frame = await plan.rows.resolve(plan.core, signal);
      return pick(frame, await choose(frame, signal));
    }),
  );
}

/** Values of view column `col` at every row of `frame` (media as lazy cells). */
export async function columnValues(
  core: DatasetCore,
  frame: Frame,
  col: ViewColumn,
  signal?: AbortSignal,
): Promise<unknown[]> {
  switch (col.kind) {
    case 'stored': {
      const all = await core.columnValues(col.source, signal);
      return Array.from(frame.rows, (i) => all[i] ?? null);
    }
    case 'extra':
      return [...frame.extra.get(col.key)!];
    case 'computed': {
      const inputs = await Promise.all(col.prior.map((c) => columnValues(core, frame, c, signal)));
      if (col.expr) return col.expr.vector(frame.rows.length, inputs);
      return Array.from(frame.rows, (_, j) => {
        if ((j & 0xffff) === 0) throwIfAborted(signal, 'read');
        return col.fn(Object.fromEntries(col.prior.map((c, k) => [c.name, inputs[k][j]])));
      });
    }
    case 'union': {
      const parts = await unionParts(col, signal);
      const all = await Promise.all(parts.map((p) => columnValues(p.plan.core, p.frame, p.col, signal)));
      return Array.from(frame.rows, (r) => {
        const k = partOf(parts, r);
        return all[k][r - parts[k].offset];
      });
    }
  }
}

/** A union column's parts with their resolved frames and where each starts in the concatenation. */
export async function unionParts(
  col: Extract<ViewColumn, { kind: 'union' }>,
  signal?: AbortSignal,
): Promise<(UnionPart & { frame: Frame; offset: number })[]> {
  const frames = await Promise.all(col.parts.map((p) => p.plan.rows.resolve(p.plan.core, signal)));
  let offset = 0;
  return col.parts.map((p, k) => {
    const out = { ...p, frame: frames[k], offset };
    offset += frames[k].rows.length;
    return out;
  });
}

/** The part holding row `r` of the concatenation. */
export function partOf(parts: readonly { offset: number }[], r: number): number {
  let lo = 0;
  let hi = parts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (parts[mid].offset <= r) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Values of view column `col` at `positions` of `frame`, reading only those rows. */
export async function cellsAt(
  core: DatasetCore,
  frame: Frame,
  col: ViewColumn,
  positions: ArrayLike<number>,
  signal?: AbortSignal,
): Promise<unknown[]> {
  switch (col.kind) {
    case 'stored':
      return core.readCells(
        col.source,
        Array.from(positions, (p) => frame.rows[p]),
        signal,
      );
    case 'extra': {
      const v = frame.extra.get(col.key)!;
      return Array.from(positions, (p) => v[p]);
    }
    case 'computed': {
      if (col.expr) {
        const inputs: unknown[][] = [];
        for (const c of col.prior) inputs.push(await cellsAt(core, frame, c, positions, signal));
        return col.expr.vector(positions.length, inputs);
      }
      const rows = await rowsAt(core, frame, col.prior, positions, signal);
      return rows.map((r) => col.fn(r));
    }
    case 'union': {
      const parts = await unionParts(col, signal);
      const want = parts.map(() => [] as number[]);
      const at = Array.from(positions, (p) => {
        const r = frame.rows[p];
        const k = partOf(parts, r);
        want[k].push(r - parts[k].offset);
        return k;
      });
      const got = await Promise.all(
        parts.map((p, k) =>
          want[k].length ? cellsAt(p.plan.core, p.frame, p.col, want[k], signal) : Promise.resolve([]),
        ),
      );
      const next = parts.map(() => 0);
      return at.map((k) => got[k][next[k]++]);
    }
  }
}

/** Rows (objects keyed by column name) at `positions` of `frame`. */
export async function rowsAt(
  core: DatasetCore,
  frame: Frame,
  columns: readonly ViewColumn[],
  positions: ArrayLike<number>,
  signal?: AbortSignal,
): Promise<Row[]> {
  const cols: unknown[][] = [];
  for (const c of columns) cols.push(await cellsAt(core, frame, c, positions, signal));
  return Array.from({ length: positions.length }, (_, j) =>
    Object.fromEntries(columns.map((c, k) => [c.name, cols[k][j]])),
  );
}

let identityCache = new Uint32Array(0);
/** 0, 1, …, n − 1 (a shared read-only array). */
export function identity(n: number): Uint32Array {
  if (identityCache.length < n) {
    identityCache = new Uint32Array(Math.max(n, identityCache.length * 2));
    for (let i = 0; i < identityCache.length; i++) identityCache[i] = i;
  }
  return identityCache.subarray(0, n);
}
