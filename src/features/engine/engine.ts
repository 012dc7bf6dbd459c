/**
 * Advanced tuning of the feature engine, per `FeatureRepo` (`{ engine: { … } }` in its options).
 * Every choice gives identical results; the defaults pick the fastest path from the data's shape,
 * so these exist to pin one path (tests run each on purpose) or to tune memory and threads.
 */
import { StrataError } from '../../errors.js';

/** How training sets answer aggregation lookups: see {@link EngineOptions.pairStrategy}. */
export type PairStrategy = 'auto' | 'index';
export const PAIR_STRATEGIES: readonly PairStrategy[] = ['auto', 'index'];

/** Where window lookups get tile partials: see {@link EngineOptions.tileStrategy}. */
export type TileStrategy = 'auto' | 'materialize' | 'virtual';
export const TILE_STRATEGIES: readonly TileStrategy[] = ['auto', 'materialize', 'virtual'];

/** Advanced tuning of the feature engine (`FeatureRepoOptions.engine`); every setting gives the same results. */
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

function bad(field: string, value: string | number | undefined, hint: string): StrataError {
  const what =
    value === undefined ? `unknown engine option ${field}` : `engine option ${field} cannot be ${String(value)}`;
  return new StrataError('INVALID_ARGUMENT', what, {
    field: `engine.${field}`,
    hint,
  });
}

/** Fills in defaults; INVALID_ARGUMENT names the bad or unknown option. */
export function resolveEngine(options: EngineOptions = {}): Engine {
  for (const k of Object.keys(options))
    if (!(k in DEFAULT_ENGINE)) throw bad(k, undefined, `options: ${Object.keys(DEFAULT_ENGINE).join(', ')}`);
  const e: Engine = {
    pairStrategy: options.pairStrategy ?? DEFAULT_ENGINE.pairStrategy,
    tileStrategy: options.tileStrategy ?? DEFAULT_ENGINE.tileStrategy,
    pruneEveryEvents: options.pruneEveryEvents ?? DEFAULT_ENGINE.pruneEveryEvents,
    parallelMinEvents: options.parallelMinEvents ?? DEFAULT_ENGINE.parallelMinEvents,
  };
  if (!PAIR_STRATEGIES.includes(e.pairStrategy))
    throw bad('pairStrategy', e.pairStrategy, `use one of ${PAIR_STRATEGIES.join(', ')}`);
  if (!TILE_STRATEGIES.includes(e.tileStrategy))
    throw bad('tileStrategy', e.tileStrategy, `use one of ${TILE_STRATEGIES.join(', ')}`);
  const count = (v: number, min: number) => v >= min && (Number.isInteger(v) || v === Infinity);
  if (!count(e.pruneEveryEvents, 1)) throw bad('pruneEveryEvents', e.pruneEveryEvents, 'use an integer >= 1');
  if (!count(e.parallelMinEvents, 0)) throw bad('parallelMinEvents', e.parallelMinEvents, 'use an integer >= 0');
  return Object.freeze(e);
}
