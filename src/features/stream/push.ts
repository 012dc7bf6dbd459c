/**
 * Streaming: `push(events)` on a push source updates, for every view over it, the same tiles the
 * batch backfill builds. Events later than the source's newest event time minus `allowedLateness`
 * are dropped; with an `idField`, repeated ids are ignored (ids are remembered for the lateness
 * horizon). Returned values are as of the newest event time seen (the high-water mark).
 */
import { StrataError } from '../../errors.js';
import { normalizeValue, toMs } from '../engine/build.js';
import { canonical, keyValue } from '../engine/columns.js';
import { Composer } from '../engine/compose.js';
import { EntityStream } from './entity-stream.js';
import { parseExpr } from '../definitions/expr.js';
import { compileExpr } from '../definitions/expr-filter.js';
import { hashNumber, hashValue } from '../../stats/index.js';
import { tupleKey } from '../engine/keys.js';
import type { GroupPlan, ViewPlan } from '../engine/plan.js';
import { planView } from '../engine/plan.js';
import { coercePushEvent } from './push-values.js';
import { aggJsValue } from '../engine/values.js';
import type { TableDtype, FeatureRowBatch, FeatureView, PushedViewValues, Source } from '../definitions/types.js';

/** Turns one event into a group's input value (same rules as the batch path). */
class GroupInput {
  readonly #map = new Map<unknown, number>();
  readonly dict: unknown[] | null;
  readonly #codeHash: number[] = [];
  readonly #where: ((get: (c: string) => unknown) => number) | null;
  readonly #plainNumber: boolean;

  constructor(
    readonly plan: GroupPlan,
    readonly dtype: TableDtype | null,
    readonly dtypes: Readonly<Record<string, TableDtype>>,
  ) {
    this.dict = plan.coded ? [] : null;
    this.#plainNumber = dtype === 'float64' || dtype === 'float32' || dtype === 'int32' || dtype === 'int64';
    this.#where = plan.where ? compileExpr(parseExpr(plan.where)) : null;
  }

  /** Writes the event's value (NaN = missing or filtered) and hash into out[g] / hashes[g]. */
  read(e: Record<string, unknown>, g: number, out: number[], hashes: number[]): void {
    out[g] = Number.NaN;
    hashes[g] = 0;
    if (this.#where) {
      const ok = this.#where((c) => normalizeValue(e[c], this.dtypes[c] ?? 'string'));
      if (ok !== 1) return;
    }
    if (this.plan.column === null) {
      out[g] = 1;
      return;
    }
    const raw = e[this.plan.column];
    if (!this.dict && typeof raw === 'number' && this.#plainNumber) {
      // fast path: plain numbers need no coercion (float32 columns are rounded like Arrow would)
      const v =
        this.dtype === 'float32'
          ? Math.fround(raw)
          : this.dtype === 'int32' || this.dtype === 'int64'
            ? Math.trunc(raw)
            : raw;
      if (v === v) {
        out[g] = v;
        if (this.plan.distinct) hashes[g] = hashNumber(v);
      }
      return;
    }
    const norm = normalizeValue(raw, this.dtype ?? 'float64');
    if (norm === null) return;
    if (!this.dict) {
      const v = Number(norm);
      if (v === v) {
        out[g] = v;
        if (this.plan.distinct) hashes[g] = hashNumber(v);
      }
      return;
    }
    const key = canonical(norm);
    let code = this.#map.get(key);
    if (code === undefined) {
      code = this.dict.length;
      this.#map.set(key, code);
      this.dict.push(norm);
      this.#codeHash.push(this.plan.distinct ? hashValue(norm) : 0);
    }
    out[g] = code;
    hashes[g] = this.#codeHash[code];
  }
}

interface ViewStream {
  readonly view: FeatureView;
  ingest(e: Record<string, unknown>, ts: number, created: number): string;
  current(keys: readonly string[], hwm: number): FeatureRowBatch;
  prune(hwm: number, latenessMs: number): void;
}

class PlainStream implements ViewStream {
  readonly #rows = new Map<
    unknown,
    { key: Record<string, unknown>; ts: number; created: number; values: Record<string, unknown> }
  >();
  constructor(
    readonly view: FeatureView,
    readonly source: Source,
  ) {}

  ingest(e: Record<string, unknown>, ts: number, created: number): string {
    const keyVals = this.view.entities.map((k) => e[k]);
    const id = tupleKey(keyVals) as string;
    const cur = this.#rows.get(id);
    if (cur && (ts < cur.ts || (ts === cur.ts && created < cur.created))) return id;
    const values: Record<string, unknown> = {};
    this.view.features.forEach((f, i) => (values[f.name] = normalizeValue(e[this.view.columns[i]], f.dtype)));
    this.#rows.set(id, {
      key: Object.fromEntries(this.view.entities.map((k, i) => [k, keyValue(keyVals[i])])),
      ts,
      created,
      values,
    });
    return id;
  }

  current(keys: readonly string[]): FeatureRowBatch {
    const rows = keys.map((k) => this.#rows.get(k)!);
    return {
      entityKeys: rows.map((r) => r.key),
      values: rows.map((r) => r.values),
      eventTimestampsMs: rows.map((r) => r.ts),
    };
  }

  prune(): void {}
}

class AggStream implements ViewStream {
  readonly #entities = new Map<unknown, EntityStream>();
  readonly #inputs: GroupInput[];
  readonly #composer: Composer;
  readonly #retentionMs: number;
  readonly #vals: number[];
  readonly #hashes: number[];
  #ingested = 0;
  readonly #pruneEvery: number;
  #out: Record<string, unknown> = {};
  readonly #emit: (ai: number, v: number | number[]) => void;

  constructor(
    readonly view: FeatureView,
    readonly plan: ViewPlan,
    source: Source,
    pruneEveryEvents: number,
  ) {
    this.#pruneEvery = pruneEveryEvents;
    const cols = source.columns ?? {};
    this.#inputs = plan.groups.map(
      (g) => new GroupInput(g, g.column === null ? null : (cols[g.column] ?? 'float64'), cols),
    );
    this.#composer = new Composer(plan);
    this.#vals = plan.groups.map(() => Number.NaN);
    this.#hashes = plan.groups.map(() => 0);
    this.#emit = (ai, v) => {
      const ap = this.plan.aggs[ai];
      this.#out[ap.agg.name] = aggJsValue(ap.agg, v, this.#inputs[ap.group].dict);
    };
    let reach = 0;
    for (const w of plan.windows)
      reach = Math.max(reach, w.kind === 'hopping' ? w.sizeMs + w.hopMs! : w.kind === 'lifetime' ? 0 : w.sizeMs);
    this.#retentionMs = reach + 2 * plan.tileMs;
  }

  ingest(e: Record<string, unknown>, ts: number, created: number): string {
    const keys = this.view.entities;
    const id = (keys.length === 1 ? canonical(e[keys[0]]) : tupleKey(keys.map((k) => e[k]))) as string;
    let ent = this.#entities.get(id);
    if (!ent) {
      ent = new EntityStream(this.plan, Object.fromEntries(keys.map((k) => [k, keyValue(e[k])])));
      this.#entities.set(id, ent);
    }
    for (let g = 0; g < this.#inputs.length; g++) this.#inputs[g].read(e, g, this.#vals, this.#hashes);
    ent.insert(ts, created, this.#vals, this.#hashes);
    this.#ingested++;
    return id;
  }

  current(keys: readonly string[], hwm: number): FeatureRowBatch {
    const values: Record<string, unknown>[] = [];
    const entityKeys: Record<string, unknown>[] = [];
    for (const k of keys) {
      const ent = this.#entities.get(k)!;
      this.#out = {};
      ent.valuesAt(hwm, this.#composer, this.#emit);
      values.push(this.#out);
      entityKeys.push(ent.key);
    }
    return { entityKeys, values, eventTimestampsMs: keys.map(() => hwm) };
  }

  prune(hwm: number, latenessMs: number): void {
    if (this.#ingested < this.#pruneEvery) return;
    this.#ingested = 0;
    const eventCut = hwm - latenessMs - this.#retentionMs;
    const tileCut = this.plan.hasLifetime ? -Infinity : eventCut;
    for (const ent of this.#entities.values()) ent.prune(eventCut, tileCut);
  }
}

export class PushState {
  hwm = -Infinity;
  dropped = 0;
  duplicates = 0;
  /** Accepted events in arrival order (the offline copy of what was pushed). */
  readonly log: Record<string, unknown>[] = [];
  readonly #ids = new Map<unknown, number>();
  #idsPruneAt = 100_000;
  readonly #views: ViewStream[];

  /**
   * `pruneEveryEvents`: events an aggregation view ingests between retention sweeps (EngineOptions).
   * `keepLog` false: accepted events are not kept in `log` (stream partitions keep their own copy).
   */
  constructor(
    readonly source: Source,
    views: readonly FeatureView[],
    pruneEveryEvents: number,
    readonly keepLog = true,
  ) {
    this.#views = views.map((v) =>
      v.kind === 'plain' ? new PlainStream(v, source) : new AggStream(v, planView(v), source, pruneEveryEvents),
    );
  }

  /**
   * Checks a batch before anything is applied (so a bad event leaves the state untouched) and
   * coerces its values by the source's schema; returns the coerced events and their times.
   */
  check(batch: readonly Record<string, unknown>[]): { events: Record<string, unknown>[]; ts: Float64Array } {
    const ts = new Float64Array(batch.length);
    const keys = new Set(this.#views.flatMap((v) => v.view.entities));
    const events = batch.map((raw, i) => {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw))
        throw new StrataError('INVALID_ARGUMENT', `push to ${this.source.name}: event ${i} is not an object`, {
          row: i,
          key: this.source.name,
        });
      const e = coercePushEvent(this.source, raw, i);
      ts[i] = toMs(e[this.source.timestampField]);
      if (!Number.isFinite(ts[i])) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `push to ${this.source.name}: event ${i} has no valid ${this.source.timestampField}`,
          {
            row: i,
            field: this.source.timestampField,
            hint: 'give a Date, epoch milliseconds or an ISO string',
          },
        );
      }
      for (const k of keys) {
        if (e[k] === null || e[k] === undefined) {
          throw new StrataError('INVALID_ARGUMENT', `push to ${this.source.name}: event ${i} has no join key ${k}`, {
            row: i,
            field: k,
          });
        }
      }
      return e;
    });
    return { events, ts };
  }

  /** Replays a push source's batch history (sorted by time, then created time, then row order; not logged). */
  seed(records: readonly Record<string, unknown>[]): void {
    const { timestampField, createdTimestampField, idField } = this.source;
    const ts = records.map((r) => toMs(r[timestampField]));
    const cr = records.map((r) => {
      const c = createdTimestampField ? toMs(r[createdTimestampField]) : Number.NaN;
      return c === c ? c : -Infinity;
    });
    // duplicates are judged in row order (as the batch path does), then events replay in time order
    const order = records
      .map((_, i) => i)
      .filter((i) => {
        if (!Number.isFinite(ts[i])) return false;
        const raw = idField ? records[i][idField] : null;
        if (raw === null || raw === undefined) return true;
        const id = canonical(raw);
        if (this.#ids.has(id)) return false;
        this.#ids.set(id, ts[i]);
        return true;
      });
    order.sort((a, b) => ts[a] - ts[b] || cr[a] - cr[b] || a - b);
    for (const i of order) {
      const e = records[i];
      if (ts[i] > this.hwm) this.hwm = ts[i];
      for (const v of this.#views) v.ingest(e, ts[i], cr[i]);
    }
  }

  /**
   * Applies a batch; returns the new current values of the entities it touched, per view.
   * `onAccept(i, ts)` is called for every event of the batch that counted (not late, not a duplicate).
   */
  push(batch: readonly Record<string, unknown>[], onAccept?: (index: number, ts: number) => void): PushedViewValues[] {
    const { events, ts } = this.check(batch);
    const touched = this.#views.map(() => new Set<string>());
    const { idField, createdTimestampField, allowedLatenessMs } = this.source;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const t = ts[i];
      if (t < this.hwm - allowedLatenessMs) {
        this.dropped++;
        continue;
      }
      if (idField && e[idField] !== null && e[idField] !== undefined) {
        const id = canonical(e[idField]);
        if (this.#ids.has(id)) {
          this.duplicates++;
          continue;
        }
        this.#ids.set(id, t);
      }
      if (t > this.hwm) this.hwm = t;
      const created = createdTimestampField ? toMs(e[createdTimestampField]) : Number.NaN;
      const cr = created === created ? created : -Infinity;
      if (this.keepLog) this.log.push(e);
      onAccept?.(i, t);
      this.#views.forEach((v, j) => touched[j].add(v.ingest(e, t, cr)));
    }
    this.#prune();
    return this.#views.map((v, j) => ({ view: v.view.name, ...v.current([...touched[j]], this.hwm) }));
  }

  #prune(): void {
    for (const v of this.#views) v.prune(this.hwm, this.source.allowedLatenessMs);
    if (this.#ids.size > this.#idsPruneAt) {
      const cut = this.hwm - this.source.allowedLatenessMs;
      for (const [id, t] of this.#ids) if (t < cut) this.#ids.delete(id);
      this.#idsPruneAt = Math.max(100_000, 2 * this.#ids.size);
    }
  }
}
