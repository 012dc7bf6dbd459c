/**
 * `npm run bench -- <area>` runs bench/<area>.ts and prints its JSON line last.
 * `npm run bench` runs every area and writes bench/RESULTS.md (machine, date, each figure next to its target).
 */
import { cpus, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TARGETS, type Target } from './targets.js';

const AREAS = ['storage', 'decode', 'embed', 'features', 'serve'] as const;
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
    console.log(`\n=== bench: ${area} ===`);
    try {
      results[area] = await runArea(area);
    } catch (err) {
      console.error(`bench ${area} failed: ${(err as Error).stack ?? err}`);
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
      lines.push(`| ${area} | ${name} | ${fmt(value)} | ${t ? `${t.op} ${t.value}` : ''} | ${t ? verdict(t, value) : ''} |`);
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

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
