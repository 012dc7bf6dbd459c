/**
 * Feast wire format: request schemas and the column-per-feature response of /get-online-features,
 * written straight to a JSON string (typed-array embeddings joined, not boxed into arrays first).
 */
import { StrataError } from '../errors.js';
import type { OnlineFeatures } from '../online/index.js';
import { float32ArrayJson, JsonWriter } from './json-writer.js';

const EPOCH_ISO = '1970-01-01T00:00:00Z';

/** A timestamp as Feast writes it: ISO 8601 UTC, `Z`, no fraction when whole seconds. */
export function isoTimestamp(ms: number): string {
  if (ms === 0) return EPOCH_ISO;
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? s.slice(0, -5) + 'Z' : s;
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** JSON text of one feature value: bigints as numbers (strings when beyond 2^53), bytes as base64, dates ISO. */
export function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return jsonNumber(v);
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? v.toString() : `"${v.toString()}"`;
    case 'undefined':
      return 'null';
    default:
  }
  if (v === null) return 'null';
  if (v instanceof Float32Array) return float32ArrayJson(v);
  if (v instanceof Float64Array || v instanceof Int32Array) {
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i])) return '[' + Array.from(v, jsonNumber).join(',') + ']';
    return '[' + v.join(',') + ']';
  }
  if (v instanceof BigInt64Array) return '[' + Array.from(v, (x) => jsonValue(x)).join(',') + ']';
  if (v instanceof Uint8Array)
    return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
  if (v instanceof Date) return JSON.stringify(isoTimestamp(v.getTime()));
  if (Array.isArray(v)) return '[' + v.map(jsonValue).join(',') + ']';
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x,
  );
}

/** Plain JSON-safe copy of a value (for responses built as objects). */
export function plainValue(v: unknown): unknown {
  return JSON.parse(jsonValue(v));
}

const writer = new JsonWriter();

function writeValue(w: JsonWriter, v: unknown): void {
  if (v instanceof Float32Array) w.float32Array(v);
  else w.text(jsonValue(v));
}

/**
 * `{ metadata: { feature_names }, results: [{ values, statuses, event_timestamps }] }`: entity key
 * columns first (status PRESENT, epoch timestamps), then one entry per feature. Written into one
 * reused buffer (see JsonWriter); synchronous, so one writer serves every request.
 * Columns read with write times (request field `include_write_timestamps`) also carry
 * `write_timestamps` (ISO 8601 like `event_timestamps`; null when the store does not know), an
 * extra key Feast clients ignore; entity key columns carry epoch ones.
 */
export function feastResponse(res: OnlineFeatures): string {
  const w = writer.reset();
  const withWriteTime = res.columns.some((c) => c.writeTimestampsMs !== undefined);
  w.text('{"metadata":{"feature_names":').text(JSON.stringify(res.featureNames)).text('},"results":[');
  let first = true;
  for (const [, col] of Object.entries(res.entities)) {
    const n = col.length;
    w.text(first ? '{"values":[' : ',{"values":[');
    for (let i = 0; i < n; i++) {
      if (i) w.text(',');
      writeValue(w, col[i]);
    }
    w.text('],"statuses":[')
      .text(repeat('"PRESENT"', n))
      .text('],"event_timestamps":[')
      .text(repeat(`"${EPOCH_ISO}"`, n))
      .text(withWriteTime ? '],"write_timestamps":[' + repeat(`"${EPOCH_ISO}"`, n) + ']}' : ']}');
    first = false;
  }
  // Columns of one view share their rows' timestamps: format each distinct one once.
  let lastMs = Number.NaN;
  let lastIso = '';
  for (const c of res.columns) {
    const n = c.values.length;
    w.text(first ? '{"values":[' : ',{"values":[');
    for (let i = 0; i < n; i++) {
      if (i) w.text(',');
      writeValue(w, c.values[i]);
    }
    w.text('],"statuses":[');
    for (let i = 0; i < n; i++)
      w.text(i ? ',"' : '"')
        .text(c.statuses[i])
        .text('"');
    w.text('],"event_timestamps":[');
    for (let i = 0; i < n; i++) {
      const ms = c.eventTimestampsMs[i];
      if (ms !== lastMs) {
        lastMs = ms;
        lastIso = isoTimestamp(ms);
      }
      w.text(i ? ',"' : '"')
        .text(lastIso)
        .text('"');
    }
    if (c.errors) {
      // on-demand features: why each INVALID cell failed (an extra key Feast clients ignore)
      w.text('],"errors":[').text(c.errors.map((e) => (e === null ? 'null' : JSON.stringify(e))).join(','));
    }
    if (c.writeTimestampsMs) {
      w.text('],"write_timestamps":[');
      for (let i = 0; i < n; i++) {
        const ms = c.writeTimestampsMs[i];
        if (i) w.text(',');
        w.text(Number.isFinite(ms) ? `"${isoTimestamp(ms)}"` : 'null');
      }
    }
    w.text(']}');
    first = false;
  }
  return w.text(']}').finish();
}

function repeat(s: string, n: number): string {
  return n === 0 ? '' : n === 1 ? s : new Array(n).fill(s).join(',');
}

/** Parses a request timestamp: ISO 8601 text or epoch milliseconds. */
export function parseTimestamp(v: unknown, field: string): Date {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new StrataError('INVALID_ARGUMENT', `${field} must be an ISO 8601 timestamp or epoch milliseconds`, {
      field,
      hint: 'e.g. "2024-01-31T00:00:00Z"',
    });
  }
  return new Date(ms);
}

/** Feast's column-oriented push `df` → one event object per row. */
export function dfToEvents(df: Record<string, readonly unknown[]>, maxRows: number): Record<string, unknown>[] {
  const cols = Object.entries(df);
  const n = cols.length ? cols[0][1].length : 0;
  for (const [name, values] of cols) {
    if (values.length !== n) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `df.${name} has ${values.length} values but df.${cols[0][0]} has ${n}`,
        {
          field: `df.${name}`,
          hint: 'give every column one value per row',
        },
      );
    }
  }
  if (n > maxRows) {
    throw new StrataError('INVALID_ARGUMENT', `df has ${n} rows, more than the limit of ${maxRows} per request`, {
      field: 'df',
      hint: 'split the push into smaller requests',
    });
  }
  const events = new Array<Record<string, unknown>>(n);
  for (let i = 0; i < n; i++) {
    const e: Record<string, unknown> = {};
    for (const [name, values] of cols) e[name] = values[i];
    events[i] = e;
  }
  return events;
}

// ------------------------------------------------------------------------------------ schemas

const scalar = { type: ['string', 'number', 'boolean'] };

export const GET_ONLINE_FEATURES_SCHEMA = {
  type: 'object',
  required: ['entities'],
  properties: {
    features: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    feature_service: { type: 'string', minLength: 1 },
    // join keys are scalars; on-demand request fields may ride along here too (Feast's convention),
    // vectors included; request_data is the explicit place for them. Both are checked per field.
    entities: {
      type: 'object',
      minProperties: 1,
      additionalProperties: { type: 'array', items: { anyOf: [scalar, { type: 'null' }, { type: 'array' }] } },
    },
    request_data: { type: 'object', additionalProperties: { type: 'array' } },
    full_feature_names: { type: 'boolean' },
    include_write_timestamps: { type: 'boolean' },
  },
} as const;

export const PUSH_SCHEMA = {
  type: 'object',
  required: ['push_source_name', 'df'],
  properties: {
    push_source_name: { type: 'string', minLength: 1 },
    df: { type: 'object', minProperties: 1, additionalProperties: { type: 'array' } },
    to: { type: 'string', enum: ['online', 'offline', 'online_and_offline'] },
    allow_registry_cache: { type: 'boolean' },
  },
} as const;

const timestamp = { type: ['string', 'number'] };

export const MATERIALIZE_SCHEMA = {
  type: 'object',
  required: ['start_ts', 'end_ts'],
  properties: {
    start_ts: timestamp,
    end_ts: timestamp,
    feature_views: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
} as const;

export const MATERIALIZE_INCREMENTAL_SCHEMA = {
  type: 'object',
  required: ['end_ts'],
  properties: {
    end_ts: timestamp,
    feature_views: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
} as const;

export const SEARCH_SCHEMA = {
  type: 'object',
  required: ['feature', 'query'],
  properties: {
    feature: { type: 'string', minLength: 1 },
    query: { type: 'array', minItems: 1, items: { type: 'number' } },
    k: { type: 'integer', minimum: 1, maximum: 10000 },
    metric: { type: 'string', enum: ['cosine', 'l2', 'dot'] },
    filter: { type: 'object', additionalProperties: { anyOf: [scalar, { type: 'array', items: scalar }] } },
    features: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
} as const;
