/**
 * Redis online store (ioredis). One hash per (view, entity key):
 * key `<project>:<view>:{<entity key>}` (the whole entity key is the Cluster hash tag), fields `_ts`
 * (event time, ms), `_wt` (write time, ms) and one field per feature holding the compact value encoding (codec.ts).
 * Writes run a small Lua script per batch that applies the event-time rule atomically per key;
 * reads are pipelined HMGETs. Per-view watermarks (newest event written, latest write time) live in
 * the hash `<project>:_strata_watermarks` (`e:<view>`, `w:<view>`), raised by the write script itself.
 * Redis down → StrataError UNAVAILABLE; the client reconnects by itself.
 */
import { Cluster, Redis } from 'ioredis';
import { StrataError, throwIfAborted } from '../errors.js';
import { decodeValue, encodeValue } from './codec.js';
import { decodeEntityKey, encodeEntityKey, type EntityKey } from './keys.js';
import { checkTimestamp } from './store.js';
import type {
  OnlineReadOptions,
  OnlineRecord,
  OnlineScanOptions,
  OnlineScanRow,
  OnlineStore,
  OnlineStoreHealth,
  OnlineWatermark,
  OnlineWriteResult,
  OnlineWriteRow,
} from './store.js';

/**
 * KEYS: entity hashes, then (when ARGV[3] is '1') the watermark hash. ARGV: ttlMs, write time, the
 * watermark flag, the lengths string, the blob. Per entity key the lengths string holds (space-separated)
 * ts, n, the view's byte length, then n × (field byte length, value byte length); the blob holds the view
 * and the n (field, value) pairs back to back. Returns rows written. With the flag, raises `e:<view>`
 * (newest event written) and `w:<view>` (write time) of each view it wrote.
 */
const WRITE_LUA = `
local ttl = tonumber(ARGV[1])
local wt = ARGV[2]
local wm = ARGV[3] == '1'
local blob = ARGV[5]
local meta = {}
for t in string.gmatch(ARGV[4], '[^ ]+') do meta[#meta + 1] = t end
local sub = string.sub
local nkeys = #KEYS
if wm then nkeys = nkeys - 1 end
local m = 1
local pos = 1
local written = 0
local newest = {}
for k = 1, nkeys do
  local key = KEYS[k]
  local ts = meta[m]
  local n = tonumber(meta[m + 1])
  local vlen = tonumber(meta[m + 2])
  local view = sub(blob, pos, pos + vlen - 1)
  local p = pos + vlen
  local cur = redis.call('HGET', key, '_ts')
  if (not cur) or tonumber(cur) <= tonumber(ts) then
    redis.call('DEL', key)
    local args = {'_ts', ts, '_wt', wt}
    for j = 0, n - 1 do
      local fl = tonumber(meta[m + 3 + 2 * j])
      local vl = tonumber(meta[m + 4 + 2 * j])
      args[#args + 1] = sub(blob, p, p + fl - 1)
      args[#args + 1] = sub(blob, p + fl, p + fl + vl - 1)
      p = p + fl + vl
    end
    redis.call('HSET', key, unpack(args))
    if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
    written = written + 1
    if wm and ((not newest[view]) or tonumber(newest[view]) < tonumber(ts)) then newest[view] = ts end
  else
    for j = 0, n - 1 do p = p + tonumber(meta[m + 3 + 2 * j]) + tonumber(meta[m + 4 + 2 * j]) end
  end
  pos = p
  m = m + 3 + 2 * n
end
if wm then
  local h = KEYS[#KEYS]
  for view, ts in pairs(newest) do
    local e = 'e:' .. view
    local cur = redis.call('HGET', h, e)
    if (not cur) or tonumber(cur) < tonumber(ts) then redis.call('HSET', h, e, ts) end
    local w = 'w:' .. view
    cur = redis.call('HGET', h, w)
    if (not cur) or tonumber(cur) < tonumber(wt) then redis.call('HSET', h, w, wt) end
  end
end
return written
`;

/**
 * Cluster writes only: KEYS[1] the watermark hash. ARGV: write time, then pairs (view, newest event time written).
 * Raises `e:<view>` and `w:<view>` to the given values when they are larger (never lowers them).
 */
const WATERMARK_LUA = `
local wt = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local e = 'e:' .. ARGV[i]
  local cur = redis.call('HGET', KEYS[1], e)
  if (not cur) or tonumber(cur) < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], e, ARGV[i + 1]) end
  local w = 'w:' .. ARGV[i]
  cur = redis.call('HGET', KEYS[1], w)
  if (not cur) or tonumber(cur) < wt then redis.call('HSET', KEYS[1], w, ARGV[1]) end
end
return 1
`;

export interface RedisOnlineStoreOptions {
  /** Redis URL. Default `redis://127.0.0.1:6379`. Ignored when `client` is given. */
  readonly url?: string;
  /**
   * Redis Cluster seed nodes (`redis://host:port`); when set, `url` is ignored. Entity keys hash whole
   * to slots (hash tags), writes run the script per key, reads and scans go to the owning nodes.
   */
  readonly clusterNodes?: readonly string[];
  /** Use this ioredis client (standalone or Cluster). It is not closed by `close()`. */
  readonly client?: Redis | Cluster;
  /** First segment of every key. Default `strata`. */
  readonly project?: string;
  /** Expire an entity hash this long after its last write. Default: never. */
  readonly keyTtlMs?: number;
  /** A command not answered in this time fails with UNAVAILABLE. Default 2000. */
  readonly commandTimeoutMs?: number;
  /** How long `open` waits for the first connection. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Upper bound of the reconnect back-off. Default 500. */
  readonly maxReconnectDelayMs?: number;
  /** Entity keys per Lua write call. Default 256. */
  readonly writeBatchKeys?: number;
}

type Client = Redis | Cluster;
type WriteFn = (numKeys: number, ...args: (string | Buffer)[]) => Promise<number>;
/** An ioredis pipeline with the write script: calls queue (and chain) until `exec()`. */
interface WritePipeline {
  strataOnlineWrite(numKeys: number, ...args: (string | Buffer)[]): WritePipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export class RedisOnlineStore implements OnlineStore {
  readonly kind = 'redis';
  readonly project: string;
  readonly #client: Client;
  readonly #owns: boolean;
  readonly #keyTtlMs: number;
  readonly #batchKeys: number;
  readonly #stateKey: string;
  readonly #watermarkKey: string;
  #closed = false;

  private constructor(client: Client, owns: boolean, options: RedisOnlineStoreOptions) {
    this.#client = client;
    this.#owns = owns;
    this.project = options.project ?? 'strata';
    this.#keyTtlMs = options.keyTtlMs ?? 0;
    this.#batchKeys = options.writeBatchKeys ?? 256;
    this.#stateKey = `${this.project}:_strata_state`;
    this.#watermarkKey = `${this.project}:_strata_watermarks`;
    client.defineCommand('strataOnlineWrite', { lua: WRITE_LUA });
    client.defineCommand('strataWatermark', { numberOfKeys: 1, lua: WATERMARK_LUA });
    // Connection errors surface on the commands that meet them (UNAVAILABLE); this listener only
    // keeps ioredis from reporting them as unhandled 'error' events.
    client.on('error', () => {});
  }

  /** Connects (waiting up to `connectTimeoutMs`) and returns the store. Fails UNAVAILABLE when Redis is not there. */
  static async open(options: RedisOnlineStoreOptions = {}): Promise<RedisOnlineStore> {
    if (options.client) return new RedisOnlineStore(options.client, false, options);
    const maxDelay = options.maxReconnectDelayMs ?? 500;
    const common = {
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: 0,
    };
    let client: Redis | Cluster;
    let where: string;
    if (options.clusterNodes?.length) {
      where = options.clusterNodes.join(',');
      client = new Cluster(
        options.clusterNodes.map((u) => {
          const url = new URL(u);
          return { host: url.hostname, port: Number(url.port || 6379) };
        }),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: (times: number) => Math.min(times * 50, maxDelay),
          redisOptions: { ...common, retryStrategy: (times: number) => Math.min(times * 50, maxDelay) } as object,
        },
      );
    } else {
      where = options.url ?? 'redis://127.0.0.1:6379';
      client = new Redis(where, {
        lazyConnect: true,
        enableOfflineQueue: false,
        ...common,
        retryStrategy: (times: number) => Math.min(times * 50, maxDelay),
      });
    }
    const store = new RedisOnlineStore(client, true, options);
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw new StrataError('UNAVAILABLE', `cannot connect to Redis at ${where}`, {
        uri: where,
        cause: err,
        hint: 'start redis-server or fix the url',
      });
    }
    return store;
  }

  /** The hash key of one entity of one view. */
  keyOf(view: string, ek: string): string {
    return `${this.project}:${view}:{${ek}}`;
  }

  #check(): void {
    if (this.#closed) throw new StrataError('UNAVAILABLE', 'Redis online store is closed', { hint: 'open it again' });
  }

  async write(rows: readonly OnlineWriteRow[], options: { signal?: AbortSignal } = {}): Promise<OnlineWriteResult> {
    this.#check();
    const client = this.#client as unknown as {
      strataOnlineWrite: WriteFn;
      pipeline(): WritePipeline;
    };
    const ttl = String(this.#keyTtlMs);
    const wt = String(Date.now());
    const calls: { keys: string[]; args: (string | Buffer)[] }[] = [];
    // UTF-8 bytes of the view and feature names, converted once per write
    const names8 = new Map<string, Buffer>();
    const cluster = this.#isCluster();
    // standalone: each script call also raises the watermarks (the hash is its last key); a cluster
    // cannot touch it from a call on another slot, so it is raised after the writes instead
    const perCall = cluster ? 1 : this.#batchKeys;
    for (let start = 0; start < rows.length; start += perCall) {
      const keys: string[] = [];
      const lengths: (string | number)[] = [];
      const parts: Buffer[] = [];
      let bytes = 0;
      for (let i = start; i < rows.length && i < start + perCall; i++) {
        const r = rows[i];
        const ts = checkTimestamp(r.eventTimestampMs, r.view);
        keys.push(this.keyOf(r.view, encodeEntityKey(r.entityKey)));
        const names = Object.keys(r.values);
        const view = utf8(r.view, names8);
        lengths.push(String(ts), names.length, view.length);
        parts.push(view);
        bytes += view.length;
        for (const n of names) {
          const name = utf8(n, names8);
          const value = encodeValue(r.values[n]);
          lengths.push(name.length, value.length);
          parts.push(name, value);
          bytes += name.length + value.length;
        }
      }
      if (!cluster) keys.push(this.#watermarkKey);
      calls.push({ keys, args: [ttl, wt, cluster ? '0' : '1', lengths.join(' '), Buffer.concat(parts, bytes)] });
    }
    let written = 0;
    if (cluster) {
      // One script call per entity key (each key is its own slot); ioredis routes each to its node.
      const newest = new Map<string, number>();
      for (let c = 0; c < calls.length; c += 256) {
        throwIfAborted(options.signal, 'online write');
        const slice = calls.slice(c, c + 256);
        const results = await this.#run(() =>
          Promise.all(slice.map(({ keys, args }) => client.strataOnlineWrite(1, keys[0], ...args))),
        );
        results.forEach((r, j) => {
          if (Number(r) === 0) return;
          written++;
          const row = rows[c + j];
          const seen = newest.get(row.view);
          if (seen === undefined || row.eventTimestampMs > seen) newest.set(row.view, row.eventTimestampMs);
        });
      }
      if (written > 0) await this.#raiseWatermarks(wt, newest);
      return { written, skipped: rows.length - written };
    }
    const group = 16;
    for (let c = 0; c < calls.length; c += group) {
      throwIfAborted(options.signal, 'online write');
      const slice = calls.slice(c, c + group);
      if (slice.length === 1) {
        written += Number(
          await this.#run(() => client.strataOnlineWrite(slice[0].keys.length, ...slice[0].keys, ...slice[0].args)),
        );
        continue;
      }
      const p = client.pipeline();
      for (const { keys, args } of slice) p.strataOnlineWrite(keys.length, ...keys, ...args);
      for (const r of await this.#exec(p)) written += Number(r);
    }
    return { written, skipped: rows.length - written };
  }

  /** Cluster writes: raises the watermarks of the views written (standalone writes do it in their script). */
  async #raiseWatermarks(wt: string, newest: ReadonlyMap<string, number>): Promise<void> {
    const args: string[] = [wt];
    for (const [view, ts] of newest) args.push(view, String(ts));
    const client = this.#client as unknown as { strataWatermark: (key: string, ...a: string[]) => Promise<number> };
    await this.#run(() => client.strataWatermark(this.#watermarkKey, ...args));
  }

  async watermarks(views?: readonly string[]): Promise<OnlineWatermark[]> {
    this.#check();
    const hash = await this.#run(() => this.#client.hgetall(this.#watermarkKey));
    const only = views ? new Set(views) : undefined;
    const out: OnlineWatermark[] = [];
    for (const [field, value] of Object.entries(hash)) {
      if (!field.startsWith('e:')) continue;
      const view = field.slice(2);
      if (only && !only.has(view)) continue;
      out.push({ view, eventTimestampMs: Number(value), writtenAtMs: Number(hash[`w:${view}`] ?? Number.NaN) });
    }
    return out.sort((a, b) => (a.view < b.view ? -1 : a.view > b.view ? 1 : 0));
  }

  async read(
    view: string,
    entityKeys: readonly EntityKey[],
    options: OnlineReadOptions = {},
  ): Promise<(OnlineRecord | null)[]> {
    this.#check();
    const keys = entityKeys.map((k) => this.keyOf(view, encodeEntityKey(k)));
    const features = options.features;
    const wt = options.withWriteTime === true;
    const head = wt ? ['_ts', '_wt'] : ['_ts'];
    if (keys.length === 0) return [];
    if (keys.length === 1) {
      const reply = features
        ? await this.#run(() => this.#client.hmgetBuffer(keys[0], ...head, ...features))
        : await this.#run(() => this.#client.hgetallBuffer(keys[0]));
      return [
        features ? fromHmget(reply as (Buffer | null)[], features, wt) : fromHash(reply as Record<string, Buffer>, wt),
      ];
    }
    let replies: unknown[];
    if (this.#isCluster()) {
      // Keys live on different nodes: one command each, sent together (ioredis routes by slot).
      replies = await this.#run(() =>
        Promise.all(
          keys.map((key) =>
            features ? this.#client.hmgetBuffer(key, ...head, ...features) : this.#client.hgetallBuffer(key),
          ),
        ),
      );
    } else {
      const p = this.#client.pipeline();
      for (const key of keys) {
        if (features) p.hmgetBuffer(key, ...head, ...features);
        else p.hgetallBuffer(key);
      }
      replies = await this.#exec(p);
    }
    return replies.map((r) =>
      features ? fromHmget(r as (Buffer | null)[], features, wt) : fromHash(r as Record<string, Buffer>, wt),
    );
  }

  async *scan(view: string, options: OnlineScanOptions = {}): AsyncIterable<OnlineScanRow[]> {
    this.#check();
    const prefix = `${this.project}:${view}:{`;
    for await (const keys of this.#scanKeys(`${globEscape(prefix)}*}`, options.batchRows ?? 1000, options.signal)) {
      let replies: unknown[];
      if (this.#isCluster())
        replies = await this.#run(() => Promise.all(keys.map((k) => this.#client.hgetallBuffer(k))));
      else {
        const p = this.#client.pipeline();
        for (const k of keys) p.hgetallBuffer(k);
        replies = await this.#exec(p);
      }
      const rows: OnlineScanRow[] = [];
      replies.forEach((r, i) => {
        const rec = fromHash(r as Record<string, Buffer>, options.withWriteTime === true);
        if (rec) rows.push({ ...rec, entityKey: decodeEntityKey(keys[i].slice(prefix.length, -1)) });
      });
      if (rows.length) yield rows;
    }
  }

  /** Keys matching `match`, in batches; on a cluster, every master is scanned. */
  async *#scanKeys(match: string, count: number, signal?: AbortSignal): AsyncIterable<string[]> {
    const nodes: Redis[] = this.#isCluster() ? (this.#client as Cluster).nodes('master') : [this.#client as Redis];
    for (const node of nodes) {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        throwIfAborted(signal, 'online scan');
        const [next, keys] = await this.#run(() => node.scan(cursor, 'MATCH', match, 'COUNT', count));
        cursor = next;
        const fresh = keys.filter((k) => !seen.has(k));
        for (const k of fresh) seen.add(k);
        if (fresh.length) yield fresh;
      } while (cursor !== '0');
    }
  }

  async deleteView(view: string): Promise<void> {
    this.#check();
    for await (const keys of this.#scanKeys(`${globEscape(`${this.project}:${view}:{`)}*}`, 1000)) {
      await this.#run(() => this.#unlink(keys));
    }
    const fields = await this.#run(() => this.#client.hkeys(this.#stateKey));
    const mine = fields.filter((f) => f.startsWith(`view:${view}:`));
    if (mine.length) await this.#run(() => this.#client.hdel(this.#stateKey, ...mine));
    await this.#run(() => this.#client.hdel(this.#watermarkKey, `e:${view}`, `w:${view}`));
  }

  async clear(): Promise<void> {
    this.#check();
    for await (const keys of this.#scanKeys(`${globEscape(this.project)}:*`, 1000))
      await this.#run(() => this.#unlink(keys));
  }

  async #unlink(keys: string[]): Promise<number> {
    if (!this.#isCluster()) return this.#client.unlink(...keys);
    const counts = await Promise.all(keys.map((k) => this.#client.unlink(k)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async getState(key: string): Promise<string | undefined> {
    this.#check();
    return (await this.#run(() => this.#client.hget(this.#stateKey, key))) ?? undefined;
  }

  async setState(key: string, value: string): Promise<void> {
    this.#check();
    await this.#run(() => this.#client.hset(this.#stateKey, key, value));
  }

  async health(): Promise<OnlineStoreHealth> {
    const t0 = performance.now();
    try {
      this.#check();
      await this.#run(() => this.#client.ping());
      return { ok: true, kind: this.kind, latencyMs: performance.now() - t0 };
    } catch (err) {
      return { ok: false, kind: this.kind, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#owns) return;
    try {
      if (this.#client.status === 'ready') await this.#client.quit();
      else this.#client.disconnect();
    } catch {
      this.#client.disconnect();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #isCluster(): boolean {
    return (this.#client as { isCluster?: boolean }).isCluster === true;
  }

  async #exec(p: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<unknown[]> {
    const replies = await this.#run(() => p.exec());
    if (!replies) throw this.#unavailable(new Error('pipeline was discarded'));
    return replies.map(([err, r]) => {
      if (err) throw this.#wrap(err);
      return r;
    });
  }

  async #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  #wrap(err: unknown): StrataError {
    if (err instanceof StrataError) return err;
    if ((err as Error)?.name === 'ReplyError') {
      return new StrataError('IO', `Redis refused a command: ${(err as Error).message}`, {
        cause: err,
        hint: 'check the Redis server version and that the keys belong to Strata',
      });
    }
    return this.#unavailable(err);
  }

  #unavailable(err: unknown): StrataError {
    return new StrataError(
      'UNAVAILABLE',
      `Redis online store is unavailable: ${(err as Error)?.message ?? String(err)}`,
      {
        cause: err,
        hint: 'Redis is down or unreachable; the store reconnects by itself when it is back',
      },
    );
  }
}

function fromHmget(reply: (Buffer | null)[], features: readonly string[], withWriteTime: boolean): OnlineRecord | null {
  if (!reply[0]) return null;
  const values: Record<string, unknown> = {};
  const skip = withWriteTime ? 2 : 1;
  for (let i = 0; i < features.length; i++) {
    const b = reply[i + skip];
    if (b) values[features[i]] = decodeValue(b);
  }
  const eventTimestampMs = Number(reply[0].toString());
  return withWriteTime ? { values, eventTimestampMs, writtenAtMs: writeTime(reply[1]) } : { values, eventTimestampMs };
}

function fromHash(hash: Record<string, Buffer> | null, withWriteTime: boolean): OnlineRecord | null {
  if (!hash || !hash._ts) return null;
  const values: Record<string, unknown> = {};
  for (const [name, b] of Object.entries(hash)) if (name !== '_ts' && name !== '_wt') values[name] = decodeValue(b);
  const eventTimestampMs = Number(hash._ts.toString());
  return withWriteTime ? { values, eventTimestampMs, writtenAtMs: writeTime(hash._wt) } : { values, eventTimestampMs };
}

/** `_wt` of a hash; NaN for hashes written before write times were kept. */
function writeTime(b: Buffer | null | undefined): number {
  return b ? Number(b.toString()) : Number.NaN;
}

/** `s` as UTF-8, memoized in `cache`. */
function utf8(s: string, cache: Map<string, Buffer>): Buffer {
  let b = cache.get(s);
  if (b === undefined) {
    b = Buffer.from(s, 'utf8');
    cache.set(s, b);
  }
  return b;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}
