/**
 * The CLI's one progress renderer, on stderr. On a terminal it redraws one line; elsewhere (pipes,
 * CI logs) it prints a line at most every `intervalMs` (5 s) and a final one, so logs stay readable;
 * with `json` those lines are JSON objects.
 *
 *   const bar = new ProgressBar('embed', { unit: 'images' });
 *   job.onProgress = (p) => bar.update(p.done, p.total);
 *   bar.done();
 */

import type { Progress } from '../progress.js';

export interface ProgressBarOptions {
  /** Unit shown after the counts (`rows`, `images`, `bytes`: shown as MB). Default 'items'. */
  readonly unit?: string;
  /** Where to write. Default process.stderr. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Non-terminal output: at most one line per this many ms. Default 5000. */
  readonly intervalMs?: number;
  /** Terminal redraws at most this often. Default 100. */
  readonly redrawMs?: number;
  /** Print nothing (`--quiet`). Default false. */
  readonly silent?: boolean;
  /**
   * One JSON object per line instead of a bar (`--json`), as often as plain lines:
   * `{"progress":"ingest","done":12,"total":60,"unit":"files"}`, the last with `"finished":true`.
   */
  readonly json?: boolean;
}

/** What the bar draws from: any operation's `Progress` (phase and unit optional for the CLI's own counters). */
export type ProgressEvent = Pick<Progress, 'done' | 'total'> & Partial<Pick<Progress, 'phase' | 'unit'>>;

const WIDTH = 24;

export class ProgressBar {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly tty: boolean;
  private readonly started = Date.now();
  private last = 0;
  private drawn = false;
  private finished = false;
  private doneCount = 0;
  private total: number | undefined;
  private phase: string | undefined;
  private unit: string;

  constructor(
    readonly label: string,
    private readonly options: ProgressBarOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !options.json;
    this.unit = options.unit ?? 'items';
  }

  /** Sets the counts; draws when due. */
  update(done: number, total?: number, phase?: string): void {
    this.doneCount = done;
    if (total !== undefined) this.total = total;
    if (phase !== undefined) this.phase = phase;
    const now = Date.now();
    const every = this.tty ? (this.options.redrawMs ?? 100) : (this.options.intervalMs ?? 5000);
    if (now - this.last >= every) this.draw(now);
  }

  /** Adapter for `onProgress` callbacks. */
  readonly onProgress = (p: ProgressEvent): void => {
    if (p.unit) this.unit = p.unit;
    this.update(p.done, p.total, p.phase);
  };

  /** Finishes the line with a summary (`note` appended). Idempotent. */
  done(note?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.options.silent) return;
    if (this.options.json) {
      this.stream.write(`${this.event(true, note)}\n`);
      return;
    }
    const text = this.render(Date.now(), true) + (note ? `  ${note}` : '');
    this.stream.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }

  /** Abandons the bar (on error): ends the line on a terminal. */
  fail(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tty && this.drawn) this.stream.write('\n');
  }

  /** The text of the bar now (for tests). */
  render(now = Date.now(), final = false): string {
    const elapsedS = Math.max(1e-3, (now - this.started) / 1000);
    const ph = this.phase;
    const parts = [!ph || ph === this.label ? this.label : ph.startsWith(this.label) ? ph : `${this.label} (${ph})`];
    const t = this.total;
    if (t !== undefined && t > 0) {
      const frac = Math.min(1, this.doneCount / t);
      const full = Math.round(frac * WIDTH);
      parts.push(
        `[${'#'.repeat(full)}${'.'.repeat(WIDTH - full)}]`,
        `${this.count(this.doneCount)}/${this.count(t)} ${this.unitName()}`,
      );
    } else {
      parts.push(`${this.count(this.doneCount)} ${this.unitName()}`);
    }
    const rate = this.doneCount / elapsedS;
    parts.push(
      this.unit === 'bytes'
        ? `${(rate / 1e6).toFixed(1)} MB/s`
        : `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}/s`,
    );
    if (final) parts.push(`in ${formatSeconds(elapsedS)}`);
    else if (t !== undefined && rate > 0 && this.doneCount < t)
      parts.push(`ETA ${formatSeconds((t - this.doneCount) / rate)}`);
    return parts.join(' ');
  }

  /** The JSON progress event now. */
  private event(finished: boolean, note?: string): string {
    return JSON.stringify({
      progress: this.label,
      ...(this.phase !== undefined ? { phase: this.phase } : {}),
      done: this.doneCount,
      ...(this.total !== undefined ? { total: this.total } : {}),
      unit: this.unit,
      elapsedMs: Date.now() - this.started,
      ...(finished ? { finished: true } : {}),
      ...(note ? { note } : {}),
    });
  }

  private unitName(): string {
    return this.unit === 'bytes' ? 'MB' : this.unit;
  }

  private count(n: number): string {
    return this.unit === 'bytes' ? (n / 1e6).toFixed(1) : String(n);
  }

  private draw(now: number): void {
    if (this.finished || this.options.silent) return;
    this.last = now;
    this.drawn = true;
    if (this.options.json) {
      this.stream.write(`${this.event(false)}\n`);
      return;
    }
    const text = this.render(now);
    this.stream.write(this.tty ? `\r\x1b[2K${text}` : `${text}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 120) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}
