/**
 * Progress of a long operation: the one shape every `onProgress` callback receives (ingest, embed,
 * training sets, backfill, materialize, vacuum, index builds). Renderers (the CLI's bar, JSON
 * events) need only `phase`, `done`, `total` and `unit`; the optional fields say more where the
 * operation knows it.
 */
export interface Progress {
  /** What is being worked on: the operation (`ingest`, `embed`, `vacuum`, `hnsw`) or a step of it (`sort`, `tiles`, a view name). */
  readonly phase: string;
  /** Units done so far. */
  readonly done: number;
  /** Total units, when known. */
  readonly total?: number;
  /** What `done` counts: `files`, `images`, `rows`, `events`, `objects`, `vectors`. */
  readonly unit: string;
  /** Milliseconds since the operation started. */
  readonly elapsedMs?: number;
  /** Milliseconds left at the current rate; absent until there is a rate. */
  readonly etaMs?: number;
  /** Bytes read so far, where the operation moves bytes (ingest). */
  readonly bytes?: number;
  /** Units skipped because they failed so far (a corrupt file at ingest, an undecodable image in embed). */
  readonly skipped?: number;
  /** Rows visible in the last commit, for operations that commit as they go (embed). */
  readonly committedRows?: number;
}

/** Counts done units against a total and derives elapsed time and time left. */
export class ProgressClock {
  private readonly t0 = performance.now();

  constructor(
    readonly phase: string,
    readonly unit: string,
    readonly total: number,
  ) {}

  /** A snapshot at `done` units, with `extra` fields (bytes, skipped, committedRows). */
  at(done: number, extra: Partial<Pick<Progress, 'bytes' | 'skipped' | 'committedRows'>> = {}): Progress {
    const elapsedMs = performance.now() - this.t0;
    const left = Math.max(0, this.total - done);
    const etaMs = left === 0 ? 0 : done > 0 && elapsedMs > 0 ? (left * elapsedMs) / done : undefined;
    return {
      phase: this.phase,
      done,
      total: this.total,
      unit: this.unit,
      elapsedMs,
      ...(etaMs === undefined ? {} : { etaMs }),
      ...extra,
    };
  }
}
