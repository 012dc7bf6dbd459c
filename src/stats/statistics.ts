/**
 * `ColumnStatistics`: the public face of a column's mergeable statistics (see column.ts) — built
 * value by value or read back from JSON, merged across shards and runs, summarised, and compared
 * with a reference for drift.
 */
import {
  type ColumnStatsJson,
  type ColumnStatsKind,
  type ColumnStatsState,
  type StatisticsSummary,
  addValue,
  columnStatsFromJson,
  columnStatsToJson,
  mergeColumnStats,
  newColumnStats,
  summarize,
} from './column.js';
import { sketchQuantile } from './ddsketch.js';
import { type DriftScores, drift } from './drift.js';

export class ColumnStatistics {
  private constructor(private readonly state: ColumnStatsState) {}

  /** Empty statistics of a kind; embeddings need their dimension. */
  static create(kind: ColumnStatsKind, options: { readonly dim?: number } = {}): ColumnStatistics {
    if (kind === 'embedding' && !(Number.isSafeInteger(options.dim) && (options.dim ?? 0) > 0))
      throw new RangeError(`embedding statistics need a positive integer dim, got ${options.dim}`);
    return new ColumnStatistics(newColumnStats(kind, options.dim ?? 0));
  }

  /** Statistics stored with `toJSON()`. */
  static fromJSON(json: ColumnStatsJson): ColumnStatistics {
    return new ColumnStatistics(columnStatsFromJson(json));
  }

  get kind(): ColumnStatsKind {
    return this.state.kind;
  }

  /** Adds one value (null, undefined and NaN count as nulls). */
  add(value: unknown): this {
    addValue(this.state, value);
    return this;
  }

  addAll(values: Iterable<unknown>): this {
    for (const v of values) addValue(this.state, v);
    return this;
  }

  /** Folds another run's or shard's statistics of the same kind into these. */
  merge(other: ColumnStatistics): this {
    mergeColumnStats(this.state, other.state);
    return this;
  }

  /** Numeric columns: the value at quantile q (DDSketch, 1% relative error); embeddings: of the norms. */
  quantile(q: number): number | null {
    if (this.state.kind === 'numeric') return sketchQuantile(this.state.sketch, q);
    if (this.state.kind === 'embedding') return sketchQuantile(this.state.embedding.normSketch, q);
    return null;
  }

  summary(options: { readonly top?: number } = {}): StatisticsSummary {
    return summarize(this.state, options.top ?? 10);
  }

  /** Drift of these statistics from a reference's (PSI, Jensen–Shannon; embeddings also mean shift and MMD²). */
  driftFrom(reference: ColumnStatistics): DriftScores {
    return drift(reference.state, this.state);
  }

  toJSON(): ColumnStatsJson {
    return columnStatsToJson(this.state);
  }
}
