/**
 * A real nats-server with JetStream for tests: random loopback port, temp store dir
 * (`nats-server -js -a 127.0.0.1 -p <port> -sd <dir>`). Same skip rule as redis-server.ts: outside CI
 * a missing binary skips (NATS_SKIP holds why); with CI=true it fails the suite.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort } from './ports.js';
import { killService, startService } from './server-process.js';

export const NATS_SERVER_BIN = findBinary(
  [process.env.NATS_SERVER_BIN, 'nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server'],
  /nats-server/i,
);

export const NATS_SKIP: string | false =
  NATS_SERVER_BIN || process.env.CI
    ? false
    : 'nats-server is not installed (apt-get install -y nats-server); JetStream tests skipped';

if (NATS_SKIP) console.warn(`[nats-server helper] ${NATS_SKIP}`);

/** True once the server sends its INFO line. */
async function ready(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('INFO'));
    });
  });
}

export class NatsServer implements AsyncDisposable {
  readonly host = '127.0.0.1';
  #proc: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `nats://${this.host}:${this.port}`;
  }

  static async start(): Promise<NatsServer> {
    if (!NATS_SERVER_BIN) throw new Error('nats-server is not installed and CI is set: apt-get install -y nats-server');
    const dir = await mkdtemp(join(tmpdir(), 'strata-nats-'));
    for (let attempt = 0; ; attempt++) {
      const server = new NatsServer(await freePort(), dir);
      try {
        await server.#start();
        return server;
      } catch (err) {
        if (attempt >= 4) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  async #start(): Promise<void> {
    this.#proc = await startService(
      NATS_SERVER_BIN!,
      ['-js', '-a', this.host, '-p', String(this.port), '-sd', this.dir],
      () => ready(this.port),
      (ended) => {
        if (this.#proc === ended) this.#proc = undefined;
      },
    );
  }

  /** Stops the server and removes its store. Idempotent. */
  async close(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    await killService(proc);
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
