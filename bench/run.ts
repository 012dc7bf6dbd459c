/**
 * `npm run bench -- <area>` runs bench/<area>.ts and prints its JSON line last.
 * `npm run bench` runs every area, each in its own process (one area's heap, threads and page cache
 * do not slow the next) after the machine has settled, and writes bench/RESULTS.md (machine, date,
 * each figure next to its target).
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TARGETS, type Target } from './targets.js';

const AREAS = ['storage', 'format', 'decode', 'embed', 'features', 'serve', 'stream', 'scale', 'query'] as const;
type Area = (typeof AREAS)[number];

async function runArea(area: Area): Promise<Record<string, number>> {
  const mod = (await import(`./${area}.ts`)) as { run: () => Promise<Record<string, number>> };
  return mod.run();
}

function verdict(t: Target, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'not measured';
  const ok = t.op === '>=' ? value >= t.value : value < t.value;
  return ok ? 'met' : 'NOT met';
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const a of asked) {
    if (!(AREAS as readonly string[]).includes(a)) {
      console.error(`strata bench: unknown area ${a} (areas: ${AREAS.join(', ')})`);
      process.exit(2);
    }
  }
  if (asked.length === 1) {
    const figures = await runArea(asked[0] as Area);
    console.log(JSON.stringify({ area: asked[0], ...figures }));
    return;
  }
  const areas = (asked.length ? asked : AREAS) as Area[];
  const results: Record<string, Record<string, number>> = {};
  for (const area of areas) {
    const load = await settle();
    console.log(`\n=== bench: ${area} (1-min load average ${load.toFixed(2)}) ===`);
    try {
      results[area] = await runAreaProcess(area);
    } catch (err) {
      console.error(`bench ${area} failed: ${(err as Error).message}`);
      results[area] = {};
    }
  }
  const lines = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench\` on ${new Date().toISOString()}.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
    '',
    '| area | figure | value | target | verdict |',
    '|---|---|---|---|---|',
  ];
  for (const area of areas) {
    const figures = results[area];
    const targets = TARGETS[area] ?? {};
    for (const [name, value] of Object.entries(figures)) {
      const t = targets[name];
      lines.push(
        `| ${area} | ${name} | ${fmt(value)} | ${t ? `${t.op} ${t.value}` : ''} | ${t ? verdict(t, value) : ''} |`,
      );
    }
    for (const [name, t] of Object.entries(targets)) {
      if (!(name in figures)) lines.push(`| ${area} | ${name} | — | ${t.op} ${t.value} | not measured |`);
    }
  }
  const out = path.join(import.meta.dirname, 'RESULTS.md');
  await writeFile(out, `${lines.join('\n')}\n`);
  console.log(`\nwrote ${out}`);
  console.log(JSON.stringify(results));
}

/** Runs one area in a child process (output passed through) and returns its last JSON line. */
function runAreaProcess(area: Area): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, area], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) last = l;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (pending.startsWith('{')) last = pending;
      if (code !== 0 || !last) return reject(new Error(`exit ${code}`));
      const { area: _area, ...figures } = JSON.parse(last) as Record<string, number>;
      resolve(figures);
    });
  });
}

/** Waits (up to 90 s) for the 1-minute load average to fall below 1, so one area's tail does not land on the next. */
async function settle(): Promise<number> {
  const until = Date.now() + 90_000;
  while (loadavg()[0] >= 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 2000));
  return loadavg()[0];
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
