/**
 * The viewer page's static files. scripts/build-viewer.ts bundles src/serve/viewer/browser/ into
 * `dist/serve/viewer/static/` (index.html, app.js, app.css); the published package carries that folder next to
 * this module's compiled form. Running from the TypeScript sources (tsx, vitest) the files are read from the same
 * folder in the checkout's dist/, which `npm run build` (or `npm run build:viewer`, or the test setup) fills.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../errors.js';

/** One file of the page as served: URL path, content type, text. */
export interface ViewerFile {
  readonly path: string;
  readonly file: string;
  readonly type: string;
  readonly body: string;
}

/** The files of the page: URL path, file name in the static folder, content type. `/` is the page. */
export const VIEWER_FILES: readonly Omit<ViewerFile, 'body'>[] = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
];

/** The monitoring page's files (src/serve/monitor-page.ts); its stylesheet is the viewer's. */
export const MONITOR_FILES: readonly Omit<ViewerFile, 'body'>[] = [
  { path: '/', file: 'monitor.html', type: 'text/html; charset=utf-8' },
  { path: '/monitor.js', file: 'monitor.js', type: 'text/javascript; charset=utf-8' },
  { path: '/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
];

/** Bundles built from src/serve/viewer/browser/: entry module → script file. */
export const BROWSER_ENTRIES: readonly { readonly entry: string; readonly file: string }[] = [
  { entry: 'main.ts', file: 'app.js' },
  { entry: 'monitor.ts', file: 'monitor.js' },
];

/** Where the built files are for the module at `moduleUrl` (default: this one, compiled or not). */
export function viewerStaticDir(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const fromSource = moduleUrl.endsWith('.ts');
  return fromSource ? join(here, '..', '..', '..', 'dist', 'serve', 'viewer', 'static') : join(here, 'static');
}

/** Reads every file of the page; NOT_FOUND (with the file and what to run) when the page is not built. */
export async function loadViewerFiles(
  dir: string = viewerStaticDir(),
  files: readonly Omit<ViewerFile, 'body'>[] = VIEWER_FILES,
): Promise<ViewerFile[]> {
  const out: ViewerFile[] = [];
  for (const f of files) {
    const full = join(dir, f.file);
    let body: string;
    try {
      body = await readFile(full, 'utf8');
    } catch (cause) {
      throw new StrataError('NOT_FOUND', `the viewer page is not built: cannot read ${full}`, {
        file: full,
        hint: 'run npm run build:viewer in the strata checkout (npm run build builds it too)',
        cause,
      });
    }
    out.push({ ...f, body });
  }
  return out;
}
