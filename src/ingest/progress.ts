import { type Progress, ProgressClock } from '../progress.js';

/** Ingest's counters: files done and skipped, bytes read; snapshots are `Progress` (unit `files`). */
export class ProgressTracker {
  private readonly clock: ProgressClock;
  done = 0;
  bytes = 0;
  skipped = 0;

  constructor(readonly total: number) {
    this.clock = new ProgressClock('ingest', 'files', total);
  }

  snapshot(): Progress {
    return this.clock.at(this.done, { bytes: this.bytes, skipped: this.skipped });
  }
}
