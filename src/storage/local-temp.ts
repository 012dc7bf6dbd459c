import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from '../errors.js';
import { TEMP_PREFIX } from './checks.js';

/** What a sweep of temporary files found (and, unless a dry run, deleted). */
export interface TempSweep {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Deletes `.tmp-*` files anywhere below `root` last modified before `cutoffMs` (ms since the
 * epoch): the leftovers of writers killed between writing a temp file and renaming it. Symbolic
 * links are neither followed nor deleted. A file that vanished meanwhile is not an error.
 */
export async function sweepTempFiles(
  root: string,
  cutoffMs: number,
  options: { readonly dryRun?: boolean; readonly signal?: AbortSignal } = {},
): Promise<TempSweep> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    throwIfAborted(options.signal, `temp file sweep of ${root}`);
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
        const st = await fsp.lstat(p).catch(() => undefined);
        if (!st || st.mtimeMs >= cutoffMs) continue;
        if (!options.dryRun) {
          try {
            await fsp.unlink(p);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw err;
          }
        }
        files++;
        bytes += st.size;
      }
    }
  };
  await walk(root);
  return { files, bytes };
}
