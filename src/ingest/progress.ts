/** Progress of a long operation: rows done of total, bytes moved, throughput and time left. */
export interface IngestProgress {
  readonly done: number;
  readonly total: number;
  /** Source bytes read so far (0 in link mode, where files are only probed). */
  readonly bytes: number;
  readonly mbPerS: number;
  /** Seconds left at the current rate; Infinity before the first file. */
  readonly etaS: number;
  readonly skipped: number;
}

export class ProgressTracker {
  private readonly t0 = performance.now();
  done = 0;
  bytes = 0;
  skipped = 0;

  constructor(readonly total: number) {}

  get seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  snapshot(): IngestProgress {
    const s = Math.max(1e-6, this.seconds);
    const rate = this.done / s;
    return {
      done: this.done,
      total: this.total,
      bytes: this.bytes,
      mbPerS: this.bytes / 1e6 / s,
      etaS: this.done >= this.total ? 0 : rate > 0 ? (this.total - this.done) / rate : Infinity,
      skipped: this.skipped,
    };
  }
}

export interface ProgressBarOptions {
  /** Default process.stderr. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Text before the bar. Default 'ingest'. */
  readonly label?: string;
  /** Minimum milliseconds between redraws. Default 100. */
  readonly intervalMs?: number;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line of the bar, e.g. `ingest [########----------] 42% 420/1000 12.3 MB/s ETA 8s (2 skipped)`. */
export function formatProgress(p: IngestProgress, label = 'ingest', width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const fill = Math.round(frac * width);
  const skipped = p.skipped ? ` (${p.skipped} skipped)` : '';
  return `${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${p.done}/${p.total} ${p.mbPerS.toFixed(1)} MB/s ETA ${duration(p.etaS)}${skipped}`;
}

/**
 * A terminal progress bar for the CLI: pass the returned function as `onProgress`. On a TTY the line
 * is redrawn in place (at most every `intervalMs`); otherwise a line is printed every 10%.
 */
export function progressBar(options: ProgressBarOptions = {}): (p: IngestProgress) => void {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 100;
  let last = 0;
  let lastDecile = -1;
  return (p) => {
    const finished = p.done >= p.total;
    if (stream.isTTY) {
      const now = performance.now();
      if (!finished && now - last < interval) return;
      last = now;
      stream.write(`\r${formatProgress(p, options.label)}\x1b[K${finished ? '\n' : ''}`);
      return;
    }
    const decile = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 10;
    if (decile === lastDecile) return;
    lastDecile = decile;
    stream.write(`${formatProgress(p, options.label)}\n`);
  };
}
