/**
 * Embedded online store: one SQLite file (better-sqlite3, WAL mode) inside the feature repo.
 * One row per (view, entity key): event time, write time + all the view's values packed in one compact blob
 * (float vectors as raw little-endian float32). One transaction per write batch.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { StrataError, throwIfAborted } from '../errors.js';
import { decodeRecord, encodeRecord } from './codec.js';
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

/** Where the embedded store lives by default: `<repoDir>/.strata/online.sqlite`. */
export function defaultOnlineStorePath(repoDir: string): string {
  return join(repoDir, '.strata', 'online.sqlite');
}

export interface SqliteOnlineStoreOptions {
  /** How long a writer waits on another process's lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Memory-map up to this many bytes of the file for reads (no read syscalls). Default 1 GiB; 0 disables. */
  readonly mmapBytes?: number;
  /** SQLite page cache per connection. Default 64 MiB. */
  readonly cacheBytes?: number;
}

type Row = { ts: number; wt?: number | null; val: Buffer };
type WatermarkRow = { view: string; ets: number; wt: number };
type ScanRow = { ek: string; ts: number; wt: number | null; val: Buffer };

export class SqliteOnlineStore implements OnlineStore {
  readonly kind = 'sqlite';
  readonly path: string;
  #db: Database.Database | undefined;
  readonly #upsert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #getWithWriteTime: Database.Statement;
  readonly #scan: Database.Statement;
  readonly #watermark: Database.Statement;
  readonly #writeTx: (rows: readonly OnlineWriteRow[]) => number;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#upsert = db.prepare(
      `INSERT INTO online_rows (view, ek, ts, wt, val) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (view, ek) DO UPDATE SET ts = excluded.ts, wt = excluded.wt, val = excluded.val
       WHERE excluded.ts >= online_rows.ts`,
    );
    this.#get = db.prepare('SELECT ts, val FROM online_rows WHERE view = ? AND ek = ?');
    this.#getWithWriteTime = db.prepare('SELECT ts, wt, val FROM online_rows WHERE view = ? AND ek = ?');
    this.#scan = db.prepare('SELECT ek, ts, wt, val FROM online_rows WHERE view = ? AND ek > ? ORDER BY ek LIMIT ?');
    this.#watermark = db.prepare(
      `INSERT INTO online_watermarks (view, ets, wt) VALUES (?, ?, ?)
       ON CONFLICT (view) DO UPDATE SET ets = max(ets, excluded.ets), wt = max(wt, excluded.wt)`,
    );
    this.#writeTx = db.transaction((rows: readonly OnlineWriteRow[]) => {
      let written = 0;
      const wt = Date.now();
      // newest event per view of this batch: one watermark upsert per view, not per row
      const newest = new Map<string, number>();
      for (const r of rows) {
        const ts = checkTimestamp(r.eventTimestampMs, r.view);
        const changes = this.#upsert.run(r.view, encodeEntityKey(r.entityKey), ts, wt, encodeRecord(r.values)).changes;
        written += changes;
        const seen = newest.get(r.view);
        if (changes > 0 && (seen === undefined || ts > seen)) newest.set(r.view, ts);
      }
      for (const [view, ts] of newest) this.#watermark.run(view, ts, wt);
      return written;
    });
  }

  /** Opens (creating when absent) the store file at `path`. */
  static async open(path: string, options: SqliteOnlineStoreOptions = {}): Promise<SqliteOnlineStore> {
    try {
      await mkdir(dirname(path), { recursive: true });
      const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`mmap_size = ${Math.max(0, Math.floor(options.mmapBytes ?? 2 ** 30))}`);
      db.pragma(`cache_size = ${-Math.max(1, Math.floor((options.cacheBytes ?? 64 * 2 ** 20) / 1024))}`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS online_rows (
          view TEXT NOT NULL, ek TEXT NOT NULL, ts REAL NOT NULL, wt REAL, val BLOB NOT NULL,
          UNIQUE (view, ek));
        CREATE TABLE IF NOT EXISTS online_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
      // files from before write times were kept: add the column (their rows read back NaN)
      const cols = db.prepare('PRAGMA table_info(online_rows)').all() as { name: string }[];
      if (!cols.some((c) => c.name === 'wt')) db.exec('ALTER TABLE online_rows ADD COLUMN wt REAL');
      // files from before watermarks were kept: one pass over the rows seeds them (then writes keep them)
      db.transaction(() => {
        const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'online_watermarks'").get();
        if (has) return;
        db.exec(`
          CREATE TABLE online_watermarks (view TEXT PRIMARY KEY, ets REAL NOT NULL, wt REAL NOT NULL);
          INSERT INTO online_watermarks (view, ets, wt)
            SELECT view, max(ts), coalesce(max(wt), 0) FROM online_rows GROUP BY view;`);
      }).immediate();
      return new SqliteOnlineStore(path, db);
    } catch (err) {
      throw new StrataError('IO', `cannot open the online store ${path}`, {
        file: path,
        cause: err,
        hint: 'check the path is writable and not held by an incompatible process',
      });
    }
  }

  #open(): Database.Database {
    if (!this.#db) {
      throw new StrataError('UNAVAILABLE', `online store ${this.path} is closed`, {
        file: this.path,
        hint: 'open it again',
      });
    }
    return this.#db;
  }

  async write(rows: readonly OnlineWriteRow[], options: { signal?: AbortSignal } = {}): Promise<OnlineWriteResult> {
    throwIfAborted(options.signal, 'online write');
    this.#open();
    const written = this.#guard(() => this.#writeTx(rows));
    return { written, skipped: rows.length - written };
  }

  async read(
    view: string,
    entityKeys: readonly EntityKey[],
    options: OnlineReadOptions = {},
  ): Promise<(OnlineRecord | null)[]> {
    return this.readSync(view, entityKeys, options);
  }

  /** Synchronous `read` (the embedded store never waits on I/O it could yield for). */
  readSync(view: string, entityKeys: readonly EntityKey[], options: OnlineReadOptions = {}): (OnlineRecord | null)[] {
    this.#open();
    const only = options.features ? featureSet(options.features) : undefined;
    const wt = options.withWriteTime === true;
    const out = new Array<OnlineRecord | null>(entityKeys.length);
    for (let i = 0; i < entityKeys.length; i++)
      out[i] = this.readEncoded(view, encodeEntityKey(entityKeys[i]), only, wt);
    return out;
  }

  /** Read by an already encoded entity key (see keys.ts). */
  readEncoded(view: string, ek: string, only?: ReadonlySet<string>, withWriteTime = false): OnlineRecord | null {
    const get = withWriteTime ? this.#getWithWriteTime : this.#get;
    const row = this.#guard(() => get.get(view, ek) as Row | undefined);
    if (!row) return null;
    const values = decodeRecord(row.val, only);
    return withWriteTime
      ? { values, eventTimestampMs: row.ts, writtenAtMs: row.wt ?? Number.NaN }
      : { values, eventTimestampMs: row.ts };
  }

  async *scan(view: string, options: OnlineScanOptions = {}): AsyncIterable<OnlineScanRow[]> {
    const limit = options.batchRows ?? 1000;
    let after = '';
    for (;;) {
      throwIfAborted(options.signal, 'online scan');
      this.#open();
      const rows = this.#guard(() => this.#scan.all(view, after, limit) as ScanRow[]);
      if (rows.length === 0) return;
      yield rows.map((r) =>
        options.withWriteTime
          ? {
              entityKey: decodeEntityKey(r.ek),
              values: decodeRecord(r.val),
              eventTimestampMs: r.ts,
              writtenAtMs: r.wt ?? Number.NaN,
            }
          : { entityKey: decodeEntityKey(r.ek), values: decodeRecord(r.val), eventTimestampMs: r.ts },
      );
      if (rows.length < limit) return;
      after = rows[rows.length - 1].ek;
    }
  }

  async deleteView(view: string): Promise<void> {
    const db = this.#open();
    this.#guard(() =>
      db.transaction(() => {
        db.prepare('DELETE FROM online_rows WHERE view = ?').run(view);
        db.prepare('DELETE FROM online_watermarks WHERE view = ?').run(view);
        db.prepare('DELETE FROM online_state WHERE substr(key, 1, ?) = ?').run(`view:${view}:`.length, `view:${view}:`);
      })(),
    );
  }

  async clear(): Promise<void> {
    const db = this.#open();
    this.#guard(() => db.exec('DELETE FROM online_rows; DELETE FROM online_state; DELETE FROM online_watermarks;'));
  }

  async watermarks(views?: readonly string[]): Promise<OnlineWatermark[]> {
    const db = this.#open();
    const rows = this.#guard(
      () => db.prepare('SELECT view, ets, wt FROM online_watermarks ORDER BY view').all() as WatermarkRow[],
    );
    const only = views ? new Set(views) : undefined;
    return rows
      .filter((r) => !only || only.has(r.view))
      .map((r) => ({ view: r.view, eventTimestampMs: r.ets, writtenAtMs: r.wt }));
  }

  async getState(key: string): Promise<string | undefined> {
    const db = this.#open();
    const row = this.#guard(
      () => db.prepare('SELECT value FROM online_state WHERE key = ?').get(key) as { value: string } | undefined,
    );
    return row?.value;
  }

  async setState(key: string, value: string): Promise<void> {
    const db = this.#open();
    this.#guard(() =>
      db
        .prepare(
          'INSERT INTO online_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(key, value),
    );
  }

  health(): Promise<OnlineStoreHealth> {
    const t0 = performance.now();
    try {
      this.#open().prepare('SELECT 1').get();
      return Promise.resolve({ ok: true, kind: this.kind, latencyMs: performance.now() - t0 });
    } catch (err) {
      return Promise.resolve({ ok: false, kind: this.kind, error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db?.open) db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StrataError) throw err;
      const code = (err as { code?: string }).code ?? '';
      const busy = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
      throw new StrataError(busy ? 'UNAVAILABLE' : 'IO', `online store ${this.path}: ${(err as Error).message}`, {
        file: this.path,
        cause: err,
        hint: busy ? 'another process holds the write lock; retry' : 'check the file and disk',
      });
    }
  }
}

const featureSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The Set of a feature list, cached per list identity (getOnlineFeatures passes the same arrays). */
function featureSet(features: readonly string[]): ReadonlySet<string> {
  let set = featureSets.get(features);
  if (!set) featureSets.set(features, (set = new Set(features)));
  return set;
}
