/**
 * A real redis-server for tests: random loopback port, temp dir, no persistence
 * (`--save '' --appendonly no`). `stop()` then `start()` restarts it on the same port (outage tests).
 *
 * When redis-server is not installed: outside CI, `REDIS_SKIP` holds the reason and suites skip
 * (printing it); with CI=true `REDIS_SKIP` is false and `startRedisServer` throws, failing the suite.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findRedisServer(): string | undefined {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  const candidates = [fromEnv, 'redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server'].filter(Boolean) as string[];
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /Redis server/i.test(r.stdout)) return c;
  }
  return undefined;
}

export const REDIS_SERVER_BIN = findRedisServer();

/** Why Redis suites skip, or false when they must run (installed, or CI where missing is a failure). */
export const REDIS_SKIP: string | false =
  REDIS_SERVER_BIN || process.env.CI ? false : 'redis-server is not installed (apt-get install -y redis-server); Redis tests skipped';

if (REDIS_SKIP) console.warn(`[redis-server helper] ${REDIS_SKIP}`);

async function freePort(): Promise<number> {
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

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = '';
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('PONG')) {
        s.destroy();
        resolve(true);
      }
    });
  });
}

export class RedisServer implements AsyncDisposable {
  readonly host = '127.0.0.1';
  #proc: ChildProcess | undefined;
  #log = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.#proc !== undefined;
  }

  static async start(): Promise<RedisServer> {
    if (!REDIS_SERVER_BIN) {
      throw new Error('redis-server is not installed and CI is set: install it (apt-get install -y redis-server)');
    }
    const dir = await mkdtemp(join(tmpdir(), 'strata-redis-'));
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(await freePort(), dir, REDIS_SERVER_BIN);
      try {
        await server.start();
        return server;
      } catch (err) {
        if (attempt >= 4) throw err;
      }
    }
  }

  /** Starts (again) on the same port; resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.#proc) return;
    const args = ['--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no', '--dir', this.dir];
    const proc = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    proc.stdout?.on('data', (d) => (this.#log = (this.#log + d.toString()).slice(-4000)));
    proc.stderr?.on('data', (d) => (this.#log = (this.#log + d.toString()).slice(-4000)));
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      if (this.#proc === proc) this.#proc = undefined;
    });
    for (let i = 0; i < 200; i++) {
      if (exited) break;
      if (await ping(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    this.#proc = undefined;
    throw new Error(`redis-server did not start on port ${this.port}:\n${this.#log}`);
  }

  /** Stops the server (SIGKILL: an abrupt outage) and waits for the port to close. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = undefined;
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  /** Stops and removes the temp dir. Idempotent. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export async function startRedisServer(): Promise<RedisServer> {
  return RedisServer.start();
}
