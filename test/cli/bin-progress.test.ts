/** The `strata` bin wrapper (source checkout: registers tsx) and the progress bar. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProgressBar, formatSeconds } from '../../src/cli/progress.js';
import { ROOT } from './run-cli.js';

const run = promisify(execFile);

function sink(tty: boolean): Writable & { isTTY: boolean; text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { isTTY: boolean; text: string };
  w.text = '';
  w.isTTY = tty;
  return w;
}

describe('bin/strata.js', () => {
  it('runs the CLI from a source checkout (tsx) from any directory', async () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin', 'strata.js'), '--version'], { cwd: '/', env });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await run(process.execPath, [join(ROOT, 'bin', 'strata.js'), 'versions', '--help'], { cwd: '/', env });
    expect(help.stdout).toContain('strata versions <uri>');
  });
});

describe('ProgressBar', () => {
  it('prints throttled lines and a final summary when not a terminal', () => {
    const out = sink(false);
    const bar = new ProgressBar('embed', { stream: out, unit: 'images', intervalMs: 60_000 });
    bar.update(1, 10);
    bar.update(5, 10); // throttled
    bar.done();
    const lines = out.text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^embed \[#+\.+\] 1\/10 images .*\/s ETA/);
    expect(lines[1]).toMatch(/^embed \[#+\.+\] 5\/10 images .* in [\d.]+s$/);
  });

  it('redraws one line on a terminal and ends it', () => {
    const out = sink(true);
    const bar = new ProgressBar('ingest', { stream: out, unit: 'bytes', redrawMs: 0 });
    bar.update(2_000_000, 4_000_000);
    bar.update(4_000_000, 4_000_000);
    bar.done('ok');
    expect(out.text.startsWith('\r\x1b[2K')).toBe(true);
    expect(out.text.endsWith('\n')).toBe(true);
    expect(out.text.split('\n')).toHaveLength(2);
    expect(out.text).toContain('4.0/4.0 MB');
    expect(out.text).toContain('ok');
  });

  it('silent prints nothing; onProgress adapts library progress events', () => {
    const out = sink(false);
    const quiet = new ProgressBar('x', { stream: out, silent: true });
    quiet.update(1, 2);
    quiet.done();
    expect(out.text).toBe('');
    const bar = new ProgressBar('materialize', { stream: out, intervalMs: 0 });
    bar.onProgress({ phase: 'materialize user_stats', done: 3, unit: 'rows' });
    expect(out.text).toMatch(/^materialize user_stats 3 rows/);
    expect(formatSeconds(5.25)).toBe('5.3s');
    expect(formatSeconds(150)).toBe('2m30s');
  });
});
