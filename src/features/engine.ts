/**
 * Advanced tuning of the feature engine, per `FeatureRepo` (`{ engine: { … } }` in its options).
 * Every choice gives identical results; the defaults pick the fastest path from the data's shape,
 * so these exist to pin one path (tests run each on purpose) or to tune memory and threads.
 */
import { StrataError } from '../errors.js';

export const PAIR_STRATEGIES = ['auto', 'index'] as const;
/** How training sets answer aggregation lookups: see {@link EngineOptions.pairStrategy}. */
export type PairStrategy = (typeof PAIR_STRATEGIES)[number];

export const TILE_STRATEGIES = ['auto', 'materialize', 'virtual'] as const;
/** Where window lookups get tile partials: see {@link EngineOptions.tileStrategy}. */
export type TileStrategy = (typeof TILE_STRATEGIES)[number];

export interface EngineOptions {
  /**
   * `'auto'` (default): short windows pair events with entity rows directly (no full sort), other
   * views use the view's sorted index. `'index'`: always the sorted index (built once per source
   * load and cached on the repo).
   */
  readonly pairStrategy?: PairStrategy;
  /**
   * `'auto'` (default): materialize a view's tiles when lookups would rescan many raw events (and
   * always for lifetime windows), else compute tile partials on the fly. `'materialize'`: always
   * build the tiles. `'virtual'`: never build them for lookups (`backfill` still does).
   */
  readonly tileStrategy?: TileStrategy;
  /** Events a push-source aggregation view ingests between retention sweeps. Default 65536. */
  readonly pruneEveryEvents?: number;
  /**
   * Inputs with at least this many events are sorted and probed on the main thread plus one
   * worker thread; smaller ones stay on the main thread. Default 1000000; `Infinity` never uses the worker.
   */
  readonly parallelMinEvents?: number;
}

/** Engine options with every default filled in. */
export type Engine = Readonly<Required<EngineOptions>>;

export const DEFAULT_ENGINE: Engine = Object.freeze({
  pairStrategy: 'auto',
  tileStrategy: 'auto',
  pruneEveryEvents: 65_536,
  parallelMinEvents: 1_000_000,
});

function bad(field: string, value: unknown, hint: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `engine option ${field} cannot be ${String(value)}`, {
    field: `engine.${field}`,
    hint,
  });
}

/** Fills in defaults; INVALID_ARGUMENT names the bad option. */
export function resolveEngine(options: EngineOptions = {}): Engine {
  const e = { ...DEFAULT_ENGINE, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!(PAIR_STRATEGIES as readonly unknown[]).includes(e.pairStrategy))
    throw bad('pairStrategy', e.pairStrategy, `use one of ${PAIR_STRATEGIES.join(', ')}`);
  if (!(TILE_STRATEGIES as readonly unknown[]).includes(e.tileStrategy))
    throw bad('tileStrategy', e.tileStrategy, `use one of ${TILE_STRATEGIES.join(', ')}`);
  const count = (v: unknown, min: number) =>
    typeof v === 'number' && v >= min && (Number.isInteger(v) || v === Infinity);
  if (!count(e.pruneEveryEvents, 1)) throw bad('pruneEveryEvents', e.pruneEveryEvents, 'use an integer >= 1');
  if (!count(e.parallelMinEvents, 0)) throw bad('parallelMinEvents', e.parallelMinEvents, 'use an integer >= 0');
  return Object.freeze(e as Engine);
}
