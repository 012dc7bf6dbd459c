/**
 * kill -9 during materialize, then re-run → the same final store contents as an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { materialize, watermarkKey } from '../../src/online/index.js';
import { KILL_TEST_END, KILL_TEST_START, killTestRepo, seedStore } from './fixtures/kill-data.js';
import { dumpStore, storeKinds } from './stores.js';

const kinds = storeKinds();
const CHILD = fileURLToPath(new URL('./fixtures/materialize-child.ts', import.meta.url));
const VIEWS = ['user_stats', 'user_item'];
const STATE = VIEWS.map(watermarkKey);

/** Runs the child until it has written at least `minRows` of the first view, then SIGKILLs it. */
function runAndKill(args: string[], minRows: number): Promise<{ killedAt: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killedAt = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.trim().split('\n');
      const last = lines[lines.length - 1];
      const m = last.match(/^progress materialize user_stats (\d+)$/);
      if (!killedAt && m && Number(m[1]) >= minRows) {
        killedAt = last;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (!killedAt) reject(new Error(`child finished before it could be killed:\n${out}\n${err}`));
      else resolve({ killedAt, signal });
    });
  });
}

describe.each(kinds)('kill -9 during materialize: $name', (kind) => {
  const maybe = kind.skip ? it.skip : it;

  maybe('re-run converges to the uninterrupted state', async () => {
    // Reference: an uninterrupted run.
    const ref = await kind.open();
    await seedStore(ref.store);
    await materialize(killTestRepo(), ref.store, { start: KILL_TEST_START, end: KILL_TEST_END });
    const want = await dumpStore(ref.store, VIEWS, STATE);
    await ref.store.close();

    // Killed run: seed, start the child, SIGKILL it mid-way.
    const victim = await kind.open();
    await seedStore(victim.store);
    const { signal, killedAt } = await runAndKill(kind.childArgs(victim.id), 300);
    expect(signal).toBe('SIGKILL');
    expect(killedAt).toMatch(/progress/);
    const partial = (await dumpStore(victim.store, VIEWS, STATE)) as Record<string, unknown[]>;
    expect(partial.user_stats.length).toBeGreaterThan(0);
    expect(partial['state:' + STATE[0]]).toBeUndefined(); // watermark not advanced by the killed run
    expect(partial).not.toEqual(want);

    // Re-run in this process and compare everything.
    await materialize(killTestRepo(), victim.store, { start: KILL_TEST_START, end: KILL_TEST_END });
    expect(await dumpStore(victim.store, VIEWS, STATE)).toEqual(want);
    await victim.store.close();
  });
});
