/**
 * Test helpers for the DuckDB oracle: deterministic random data with the hard cases (duplicate
 * times, times exactly on window/hop/tile boundaries, nulls, missing keys), loading it into DuckDB,
 * and SQL that computes the same feature definitions independently of the engine.
 */
import { BIGINT, DOUBLE, DuckDBInstance, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { AggregationDef } from '../../src/features/index.js';
import { parseDuration } from '../../src/features/index.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** A Monday, midnight UTC. */
export const BASE = Date.UTC(2024, 0, 1);

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    s ^= s >>> 15;
    return (s >>> 0) / 4294967296;
  };
}

export interface Event {
  rid: number;
  k: number | string | bigint | null;
  ts: number;
  cr: number | null;
  v: number | null;
  s: string | null;
}
export interface Row {
  qid: number;
  qk: number | string | bigint;
  qts: number;
}

export interface GenOptions {
  seed: number;
  entities?: number;
  events?: number;
  rows?: number;
  stringKeys?: boolean;
  /** Integer keys 2^60 + i (Snowflake-style ids that float64 cannot tell apart), as bigints. */
  bigKeys?: boolean;
  /** No event without a key (a key column without nulls takes the engine's direct-table path). */
  noNullKeys?: boolean;
  /** Event times: base + grid·15min (+ sometimes a few ms), spanning `spanSlots` slots. */
  spanSlots?: number;
  /** Added to every value: large offsets with a small spread test numerically stable stddev. */
  valueOffset?: number;
  /** Values are the event's epoch seconds (large, spread over the span). */
  epochValues?: boolean;
}

const WORDS = ['a', 'b', 'c', 'dd', 'e'];

export function generate(o: GenOptions): { events: Event[]; rows: Row[] } {
  const r = rng(o.seed);
  const E = o.entities ?? 40;
  const span = o.spanSlots ?? 300;
  const key = (i: number) => (o.stringKeys ? `u${i}` : o.bigKeys ? 2n ** 60n + BigInt(i) : i);
  const time = () => {
    const slot = Math.floor(r() * span);
    const jitter = r() < 0.6 ? 0 : r() < 0.5 ? 1 : Math.floor(r() * 15 * MIN);
    return BASE + slot * 15 * MIN + jitter;
  };
  const events: Event[] = [];
  for (let i = 0; i < (o.events ?? 1500); i++) {
    const ts = r() < 0.15 && events.length ? events[Math.floor(r() * events.length)].ts : time();
    events.push({
      rid: i,
      k: r() < 0.01 && !o.noNullKeys ? null : key(Math.floor(r() * E)),
      ts,
      cr: r() < 0.3 ? null : BASE + Math.floor(r() * 5) * 1000,
      v:
        r() < 0.12
          ? null
          : o.epochValues
            ? Math.floor(ts / 1000)
            : (o.valueOffset ?? 0) + Math.round((r() * 20 - 5) * 1000) / 1000,
      s: r() < 0.1 ? null : WORDS[Math.floor(r() * WORDS.length)],
    });
  }
  const rows: Row[] = [];
  for (let i = 0; i < (o.rows ?? 400); i++) {
    const qts =
      r() < 0.3 && events.length
        ? events[Math.floor(r() * events.length)].ts + (r() < 0.5 ? 0 : 1)
        : time() + (r() < 0.2 ? 5 * DAY : 0);
    rows.push({ qid: i, qk: key(Math.floor(r() * (E + 5))), qts });
  }
  return { events, rows };
}

export async function duck(): Promise<DuckDBConnection> {
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
  return inst.connect();
}

export async function loadIntoDuck(
  con: DuckDBConnection,
  events: Event[],
  rows: Row[],
  stringKeys = false,
): Promise<void> {
  const kt = stringKeys ? 'VARCHAR' : 'BIGINT';
  await con.run(`CREATE OR REPLACE TABLE events(rid INTEGER, k ${kt}, ts BIGINT, cr BIGINT, v DOUBLE, s VARCHAR)`);
  await con.run(`CREATE OR REPLACE TABLE rows(qid INTEGER, qk ${kt}, qts BIGINT)`);
  const ev = await con.createAppender('events');
  for (const e of events) {
    ev.appendInteger(e.rid);
    if (e.k === null) ev.appendNull();
    else if (stringKeys) ev.appendVarchar(String(e.k));
    else ev.appendBigInt(BigInt(e.k));
    ev.appendBigInt(BigInt(e.ts));
    if (e.cr === null) ev.appendNull();
    else ev.appendBigInt(BigInt(e.cr));
    if (e.v === null) ev.appendNull();
    else ev.appendDouble(e.v);
    if (e.s === null) ev.appendNull();
    else ev.appendVarchar(e.s);
    ev.endRow();
  }
  ev.closeSync();
  const rw = await con.createAppender('rows');
  for (const q of rows) {
    rw.appendInteger(q.qid);
    if (stringKeys) rw.appendVarchar(String(q.qk));
    else rw.appendBigInt(BigInt(q.qk));
    rw.appendBigInt(BigInt(q.qts));
    rw.endRow();
  }
  rw.closeSync();
  void [BIGINT, DOUBLE, INTEGER, VARCHAR];
}

export async function query(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const r = await con.runAndReadAll(sql);
  return r
    .getRowObjectsJS()
    .map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}

/** Plain view as of each row: ASOF JOIN over events deduplicated per (key, time) by created then row. */
export function plainSql(ttlMs?: number): string {
  const v = (c: string) => (ttlMs ? `CASE WHEN d.ts >= q.qts - ${ttlMs} THEN d.${c} END` : `d.${c}`);
  return `WITH d AS (
      SELECT * FROM events WHERE k IS NOT NULL
      QUALIFY row_number() OVER (PARTITION BY k, ts ORDER BY cr DESC NULLS LAST, rid DESC) = 1)
    SELECT q.qid, ${v('v')} AS v, ${v('s')} AS s
    FROM rows q ASOF LEFT JOIN d ON q.qk = d.k AND q.qts >= d.ts
    ORDER BY q.qid`;
}

/** One aggregation as of each row, by a range join + GROUP BY (independent of tiles). */
export function aggSql(a: AggregationDef): string {
  const W = a.window === 'lifetime' ? Infinity : parseDuration(a.window)!;
  const H = a.hop === undefined ? undefined : parseDuration(a.hop)!;
  let lo: string | null;
  let hi: string;
  const kind = a.windowKind ?? (W === Infinity ? 'lifetime' : H ? 'hopping' : 'sliding');
  if (kind === 'lifetime') {
    lo = null;
    hi = 'q.qts';
  } else if (kind === 'sliding') {
    lo = `q.qts - ${W}`;
    hi = 'q.qts';
  } else if (kind === 'hopping') {
    hi = `(q.qts // ${H}) * ${H}`;
    lo = `${hi} - ${W}`;
  } else {
    lo = `(CAST(ceil(q.qts / ${W}::DOUBLE) AS BIGINT) - 1) * ${W}`;
    hi = 'q.qts';
  }
  const col = a.column && a.column !== '*' ? `e.${a.column}` : null;
  const order = 'ORDER BY e.ts, e.cr NULLS FIRST, e.rid';
  let expr: string;
  switch (a.function) {
    case 'count':
      expr = col ? `count(${col})` : 'count(e.rid)';
      break;
    case 'sum':
      expr = `sum(${col})`;
      break;
    case 'mean':
      expr = `avg(${col})`;
      break;
    case 'min':
      expr = `min(${col})`;
      break;
    case 'max':
      expr = `max(${col})`;
      break;
    case 'stddev':
      expr = `stddev_samp(${col})`;
      break;
    case 'count_distinct':
      expr = `count(DISTINCT ${col})`;
      break;
    default:
      // first / last / last_n: the ordered list of non-null values; the test takes its ends
      expr = `list(${col} ${order}) FILTER (WHERE ${col} IS NOT NULL)`;
  }
  const where = a.where ? ` AND (${a.where.replace(/\b(v|s|ts|k|cr)\b/g, 'e.$1')})` : '';
  return `SELECT q.qid, ${expr} AS x
    FROM rows q LEFT JOIN events e ON e.k = q.qk AND e.ts <= ${hi}${lo ? ` AND e.ts > ${lo}` : ''}${where}
    GROUP BY q.qid ORDER BY q.qid`;
}

/** The oracle's value for an aggregation, shaped like the engine's output. */
export function oracleValue(a: AggregationDef, x: unknown): unknown {
  if (a.function === 'first' || a.function === 'last' || a.function === 'last_n') {
    const list = (x as unknown[] | null) ?? [];
    if (a.function === 'first') return list.length ? list[0] : null;
    if (a.function === 'last') return list.length ? list[list.length - 1] : null;
    return list.slice(Math.max(0, list.length - (a.n ?? 1)));
  }
  return x ?? (a.function === 'count' || a.function === 'count_distinct' ? 0 : null);
}

export function close(a: unknown, b: unknown, rel = 1e-9): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i], rel));
  return a === b;
}
