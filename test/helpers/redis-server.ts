/**
 * A real redis-server for tests: random loopback port, temp dir, no persistence
 * (`--save '' --appendonly no`). `stop()` then `start()` restarts it on the same port (outage tests).
 *
 * When redis-server is not installed: outside CI, `REDIS_SKIP` holds the reason and suites skip
 * (printing it); with CI=true `REDIS_SKIP` is false and `startRedisServer` throws, failing the suite.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort } from './ports.js';
import { killService, startService } from './server-process.js';

export const REDIS_SERVER_BIN = findBinary(
  [process.env.REDIS_SERVER_BIN, 'redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server'],
  /Redis server/i,
);

/** Why Redis suites skip, or false when they must run (installed, or CI where missing is a failure). */
export const REDIS_SKIP: string | false =
  REDIS_SERVER_BIN || process.env.CI
    ? false
    : 'redis-server is not installed (apt-get install -y redis-server); Redis tests skipped';

if (REDIS_SKIP) console.warn(`[redis-server helper] ${REDIS_SKIP}`);

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

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.#proc !== undefined;
  }

  static async start(): Promise<RedisServer> {
    return RedisServer.startWith([]);
  }

  /** Starts with extra redis-server arguments, in `dir` (default: a new temp dir). */
  static async startWith(extraArgs: readonly string[], dir?: string): Promise<RedisServer> {
    if (!REDIS_SERVER_BIN) {
      throw new Error('redis-server is not installed and CI is set: install it (apt-get install -y redis-server)');
    }
    if (dir) await mkdir(dir, { recursive: true });
    else dir = await mkdtemp(join(tmpdir(), 'strata-redis-'));
    const cluster = extraArgs.includes('--cluster-enabled');
    for (let attempt = 0; ; attempt++) {
      let port = await freePort();
      // Cluster nodes also listen on port + 10000 (the cluster bus), which must stay a valid port.
      while (cluster && port > 55535) port = await freePort();
      const server = new RedisServer(port, dir, REDIS_SERVER_BIN, extraArgs);
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
    const args = [
      '--port',
      String(this.port),
      '--bind',
      this.host,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      ...this.extraArgs,
    ];
    this.#proc = await startService(
      this.bin,
      args,
      () => ping(this.port),
      (ended) => {
        if (this.#proc === ended) this.#proc = undefined;
      },
    );
  }

  /** Stops the server (SIGKILL: an abrupt outage) and waits for the port to close. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    await killService(proc);
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

/**
 * A real Redis Cluster: `masters` redis-servers in cluster mode on loopback, slots assigned with
 * `redis-cli --cluster create`. Same skip rule as the single server (redis-cli ships with it).
 */
export class RedisCluster implements AsyncDisposable {
  private constructor(
    readonly servers: RedisServer[],
    readonly dir: string,
  ) {}

  /** `redis://127.0.0.1:<port>` of every node. */
  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  static async start(masters = 3): Promise<RedisCluster> {
    if (!REDIS_SERVER_BIN) {
      throw new Error('redis-server is not installed and CI is set: install it (apt-get install -y redis-server)');
    }
    const dir = await mkdtemp(join(tmpdir(), 'strata-redis-cluster-'));
    const servers: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++)
        servers.push(
          await RedisServer.startWith(
            ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`],
            join(dir, String(i)),
          ),
        );
      const cli = REDIS_SERVER_BIN.replace(/redis-server$/, 'redis-cli');
      const addrs = servers.map((s) => `${s.host}:${s.port}`);
      const r = spawnSync(cli, ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}\n${r.stderr}`);
      for (let i = 0; i < 400; i++) {
        const ok = servers.every((s) =>
          /cluster_state:ok/.test(
            spawnSync(cli, ['-p', String(s.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
          ),
        );
        if (ok) return new RedisCluster(servers, dir);
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error('Redis cluster did not reach cluster_state:ok');
    } catch (err) {
      for (const s of servers) await s.close();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const s of this.servers) await s.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
