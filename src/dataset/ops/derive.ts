import { createHash } from 'node:crypto';
import { StrataError, throwIfAborted } from '../../errors.js';
import type { Sample } from '../../format/chunk.js';
import { ProgressClock, type Progress } from '../../progress.js';
import { STRATA_VERSION } from '../../version.js';
import type { DatasetCore } from '../core.js';
import { assertNoPending, clearHandWritten, type RefreshSummary } from '../derived/refresh.js';
import { stampColumn, stampColumnName, stampSample, stampsOf, staleMask, staleRows } from '../derived/row-lineage.js';
import { codecFor, normalizeSpec } from '../htypes/index.js';
import { type ColumnSpecInput, isHiddenColumn, validateColumnName } from '../schema.js';

/** Computes a derived value from one row's input values (media inputs as lazy cells). */
export type DeriveFn = (inputs: Readonly<Record<string, unknown>>) => unknown;

export interface DeriveOptions {
  /** Written as a column with lineage. Required: `withColumn` computes on read instead. */
  readonly persist: true;
  /** The columns `fn` reads; a row is stale once one of them changes. */
  readonly inputs: readonly string[];
  /** The column's spec. Default: from the first non-null value (number → float64, string → text, typed array → generic, else json). */
  readonly type?: ColumnSpecInput;
  /**
   * What identifies `fn` in the lineage (e.g. 'caption-len@2'). Default: the sha256 of
   * `fn.toString()`, which changes with any edit of its source but not with what it closes over:
   * pass a version when `fn` depends on anything outside its arguments.
   */
  readonly version?: string;
  /** Rows read and computed at a time. Default 1024. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/** Lineage of a `derive` column, stored as `columnMeta(column).lineage`. */
export interface DerivedLineage {
  readonly kind: 'strata.derived';
  readonly inputs: readonly string[];
  /** `options.version`, or `sha256:` + the first 16 bytes (hex) of sha256(fn.toString()). */
  readonly fingerprint: string;
  /** The hidden per-row lineage column (see derived/row-lineage.ts). */
  readonly rowLineage: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly strataVersion: string;
}

/** What identifies `fn` in a derive column's lineage. */
export function fingerprintOf(fn: DeriveFn, version?: string): string {
  if (version !== undefined) return version;
  return `sha256:${createHash('sha256').update(fn.toString()).digest('hex').slice(0, 32)}`;
}

/** Functions of the derive columns made in this process, so `refresh(column)` needs no `fn` again. */
const known = new Map<string, { fn: DeriveFn; fingerprint: string }>();

/**
 * Computes column `name` from `inputs` with `fn` for every row and writes it with its lineage and
 * per-row lineage, as one commit; returns that version. Deriving an existing derive column with
 * the same fingerprint refreshes it; another fingerprint, or any other existing column: CONFLICT.
 */
export async function derive(
  core: DatasetCore,
  name: string,
  fn: DeriveFn,
  options: DeriveOptions,
): Promise<RefreshSummary> {
  if (options?.persist !== true) {
    throw new StrataError('INVALID_ARGUMENT', `derive(${name}): pass { persist: true } to write the column`, {
      column: name,
      field: 'persist',
      hint: 'withColumn(name, fn) computes a column on read without writing it',
    });
  }
  if (typeof fn !== 'function') {
    throw new StrataError('INVALID_ARGUMENT', `derive(${name}): expected a function of the input values`, {
      column: name,
    });
  }
  validateColumnName(name);
  const inputs = checkInputs(core, name, options.inputs);
  const fingerprint = fingerprintOf(fn, options.version);
  if (core.manifest.columns.some((c) => c.name === name)) {
    const l = core.columnManifest(name).meta.lineage as DerivedLineage | undefined;
    if (l?.kind !== 'strata.derived' || l.fingerprint !== fingerprint || !sameList(l.inputs, inputs)) {
      throw new StrataError('CONFLICT', `column ${name} of ${core.uri} exists and was not derived this way`, {
        uri: core.uri,
        column: name,
        hint: 'derive into a new column, or drop this one first',
      });
    }
    known.set(key(core, name), { fn, fingerprint });
    return refreshDerived(core, name, { ...options, fn });
  }
  assertNoPending(core, 'derive');
  const now = new Date().toISOString();
  const lineage: DerivedLineage = {
    kind: 'strata.derived',
    inputs,
    fingerprint,
    rowLineage: stampColumnName(name),
    createdAt: now,
    updatedAt: now,
    strataVersion: STRATA_VERSION,
  };
  const rows = Array.from({ length: core.manifest.length }, (_, i) => i);
  const version = await inOneCommit(core, options.signal, `derive ${name} from ${inputs.join(', ')}`, async () => {
    const values = await compute(core, fn, inputs, rows, options, `derive ${name}`);
    const spec = normalizeSpec(name, options.type ?? inferSpec(name, values));
    const txn = core.transaction(options.signal);
    const codec = codecFor(spec.htype, name);
    if (codec.media)
      throw new StrataError('UNSUPPORTED', `derive(${name}): a derived column cannot hold media`, { column: name });
    const base = codec.column(name, spec);
    txn.addColumn({ ...base, name, meta: { ...base.meta, lineage } });
    txn.addColumn(stampColumn(name, inputs));
    await fill(core, name, inputs, rows, values);
  });
  known.set(key(core, name), { fn, fingerprint });
  return { column: name, stale: rows.length, recomputed: rows.length, version, cleared: 0 };
}

/**
 * Recomputes the stale rows of derive column `column` (inputs changed, rows appended, values
 * written by hand) with its function: `options.fn`, else the one `derive` was given in this
 * process. CONFLICT when that function's fingerprint is not the column's.
 */
export async function refreshDerived(
  core: DatasetCore,
  column: string,
  options: Omit<Partial<DeriveOptions>, 'persist' | 'inputs' | 'type'> & {
    readonly fn?: DeriveFn;
    /** Also recompute rows whose stamp does not match their inputs' current bytes. */
    readonly verify?: boolean;
  },
): Promise<RefreshSummary> {
  assertNoPending(core, 'refresh');
  const lineage = core.columnManifest(column).meta.lineage as DerivedLineage;
  const fn = options.fn ?? known.get(key(core, column))?.fn;
  if (!fn) {
    throw new StrataError('INVALID_ARGUMENT', `refresh(${column}): its function is not known in this process`, {
      uri: core.uri,
      column,
      field: 'fn',
      hint: `pass it: ds.refresh('${column}', { fn }) (with the same version, if derive() was given one)`,
    });
  }
  const fingerprint = options.fn ? fingerprintOf(fn, options.version) : known.get(key(core, column))!.fingerprint;
  if (fingerprint !== lineage.fingerprint) {
    throw new StrataError('CONFLICT', `refresh(${column}): this function is not the one that derived the column`, {
      uri: core.uri,
      column,
      columnFingerprint: lineage.fingerprint,
      fingerprint,
      hint: 'pass the same function (and version), or derive a new column',
    });
  }
  const cleared = await clearHandWritten(core, column, options);
  // rows whose input is itself a stale derived value wait (stay stale) until that input is refreshed
  const inputMasks = await Promise.all(lineage.inputs.map((c) => staleMask(core, c, options.signal)));
  const stale = await staleRows(core, column, options.signal);
  const rows = stale.filter((r) => !inputMasks.some((m) => m?.[r] === 1));
  const waiting = stale.length - rows.length;
  if (rows.length === 0)
    return { column, stale: stale.length, recomputed: 0, version: core.manifest.version, cleared, waiting };
  const message = `refresh ${column}: ${rows.length} rows`;
  const version = await inOneCommit(core, options.signal, message, async () => {
    const values = await compute(core, fn, lineage.inputs, rows, options, `refresh ${column}`);
    await fill(core, column, lineage.inputs, rows, values);
    const txn = core.transaction(options.signal);
    txn.setColumnMeta(column, {
      ...core.columnManifest(column).meta,
      lineage: { ...lineage, updatedAt: new Date().toISOString() },
    });
  });
  return { column, stale: stale.length, recomputed: rows.length, version, cleared, waiting };
}

function checkInputs(core: DatasetCore, name: string, given: readonly string[] | undefined): string[] {
  const inputs: readonly unknown[] = Array.isArray(given) ? (given as readonly unknown[]) : [];
  if (inputs.length === 0 || inputs.some((i) => typeof i !== 'string')) {
    throw new StrataError('INVALID_ARGUMENT', `derive(${name}): name the input columns`, {
      column: name,
      field: 'inputs',
      hint: "e.g. derive('n_words', r => r.caption.split(' ').length, { persist: true, inputs: ['caption'] })",
    });
  }
  const names = inputs as readonly string[];
  for (const i of names) {
    core.columnManifest(i);
    if (isHiddenColumn(i) || i === name) {
      throw new StrataError('INVALID_ARGUMENT', `derive(${name}): ${i} cannot be an input`, {
        column: i,
        field: 'inputs',
      });
    }
  }
  return [...names];
}

/** fn over the input values of `rows`, in batches. */
async function compute(
  core: DatasetCore,
  fn: DeriveFn,
  inputs: readonly string[],
  rows: readonly number[],
  options: { readonly batchSize?: number; readonly signal?: AbortSignal; readonly onProgress?: (p: Progress) => void },
  phase: string,
): Promise<unknown[]> {
  const size = options.batchSize ?? 1024;
  const clock = new ProgressClock(phase, 'rows', rows.length);
  const out: unknown[] = [];
  for (let s = 0; s < rows.length; s += size) {
    throwIfAborted(options.signal, phase);
    const part = rows.slice(s, s + size);
    const cols = await Promise.all(inputs.map((c) => core.readCells(c, part, options.signal)));
    for (let j = 0; j < part.length; j++) {
      const v = await fn(Object.fromEntries(inputs.map((c, k) => [c, cols[k][j]])));
      out.push(v === undefined ? null : v);
    }
    options.onProgress?.(clock.at(out.length));
  }
  return out;
}

/** Encodes `values` (validated first: a bad one fails before anything is staged) and fills them with their stamps. */
async function fill(
  core: DatasetCore,
  column: string,
  inputs: readonly string[],
  rows: readonly number[],
  values: readonly unknown[],
): Promise<void> {
  const txn = core.transaction();
  const col = txn.schema.find((c) => c.name === column)!;
  const codec = codecFor(col.htype, column);
  const samples: (Sample | null)[] = [];
  let meta = col.meta;
  for (let j = 0; j < rows.length; j++) {
    const enc = await codec.encode(values[j], {
      column,
      row: rows[j],
      dtype: col.dtype,
      meta,
      updateMeta: (m) => (meta = { ...m, lineage: col.meta.lineage }),
      links: core.links,
    });
    samples.push(enc.sample);
  }
  if (meta !== col.meta) txn.setColumnMeta(column, meta);
  const stamps = await stampsOf(core, inputs, rows);
  for (let j = 0; j < rows.length; j++) {
    await txn.fillRows(column, rows[j], [samples[j]]);
    await txn.fillRows(stampColumnName(column), rows[j], [stampSample(stamps[j])]);
  }
}

function inferSpec(name: string, values: readonly unknown[]): ColumnSpecInput {
  const v = values.find((x) => x !== null && x !== undefined);
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'text';
  if (v instanceof Float32Array) return { htype: 'generic', dtype: 'float32', shape: [v.length] };
  if (v instanceof Float64Array) return { htype: 'generic', dtype: 'float64', shape: [v.length] };
  if (v instanceof Int32Array) return { htype: 'generic', dtype: 'int32', shape: [v.length] };
  if (v instanceof Uint8Array) return { htype: 'generic', dtype: 'uint8', shape: [v.length] };
  if (v === undefined) {
    throw new StrataError('INVALID_ARGUMENT', `derive(${name}): every value is null, so its type is unknown`, {
      column: name,
      field: 'type',
      hint: "pass { type: 'float64' } (or any column spec)",
    });
  }
  return 'json';
}

async function inOneCommit(
  core: DatasetCore,
  signal: AbortSignal | undefined,
  message: string,
  write: () => Promise<void>,
): Promise<number> {
  core.transaction(signal);
  try {
    await write();
    throwIfAborted(signal, message);
    return await core.commit(message);
  } catch (err) {
    await core.rollback();
    throw err;
  }
}

function key(core: DatasetCore, column: string): string {
  return `${core.uri}\0${core.ref.branch ?? ''}\0${column}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
