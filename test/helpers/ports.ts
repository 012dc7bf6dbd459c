/** Small things the service helpers share: a free loopback port, and finding a server binary. */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The first candidate whose `--version` output matches `version` (undefined when none is installed). */
export function findBinary(candidates: readonly (string | undefined)[], version: RegExp): string | undefined {
  for (const c of candidates) {
    if (!c) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && version.test(r.stdout + r.stderr)) return c;
  }
  return undefined;
}
