/**
 * The freshness rows `viewFreshness` (freshness.ts) returns. No imports: the monitoring page's wire
 * types (src/serve/viewer/monitor-wire.ts), compiled for the browser too, derive from these.
 */

/** Every `FreshnessStatus`, as a runtime array. */
export const FRESHNESS_STATUSES = ['ok', 'breached', 'no_slo'] as const;
/**
 * `ok`: within the SLO; `breached`: the newest event is older than the SLO allows, or the view has an
 * SLO and nothing online; `no_slo`: the view declares no `freshness`.
 */
export type FreshnessStatus = (typeof FRESHNESS_STATUSES)[number];

export interface ViewFreshness {
  readonly view: string;
  /** Newest event time online, epoch ms; null when nothing was written. */
  readonly eventWatermarkMs: number | null;
  /** Latest write time, epoch ms; null when nothing was written (or unknown). */
  readonly writeWatermarkMs: number | null;
  /** now − event watermark, ms (the freshness lag); null when nothing was written. */
  readonly lagMs: number | null;
  /** now − write watermark, ms: how long since the view was last written. */
  readonly writeAgeMs: number | null;
  /** Declared SLO, ms; null when none. */
  readonly sloMs: number | null;
  readonly status: FreshnessStatus;
}
