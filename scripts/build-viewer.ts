/**
 * Builds the viewer page (src/serve/viewer/browser/) into the folder the server reads it from
 * (dist/serve/viewer/static/, see src/serve/viewer/assets.ts): main.ts and what it imports bundled by esbuild
 * into one browser script, app.js (and monitor.ts into monitor.js, the monitoring page); the HTML and app.css copied. Run by `npm run build`, `npm run build:viewer`
 * and the test setup (test/setup/build-viewer.ts). Type-checking is `npm run typecheck`'s job, not this one's.
 *
 *   tsx scripts/build-viewer.ts [outDir]
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BROWSER_ENTRIES, MONITOR_FILES, VIEWER_FILES, viewerStaticDir } from '../src/serve/viewer/assets.js';

const BROWSER = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'serve', 'viewer', 'browser');

/** Writes every file of VIEWER_FILES into `outDir` (default: where the server run from this checkout looks). */
export async function buildViewer(outDir: string = viewerStaticDir()): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  for (const { entry, file } of BROWSER_ENTRIES)
    await build({
      entryPoints: [join(BROWSER, entry)],
      outfile: join(outDir, file),
      tsconfig: join(BROWSER, 'tsconfig.json'),
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'warning',
    });
  const files = [...new Set([...VIEWER_FILES, ...MONITOR_FILES].map((f) => f.file))];
  const bundles = new Set(BROWSER_ENTRIES.map((e) => e.file));
  for (const f of files) if (!bundles.has(f)) await copyFile(join(BROWSER, f), join(outDir, f));
  return files.map((f) => join(outDir, f));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = await buildViewer(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`viewer: ${files.join(', ')}`);
}
