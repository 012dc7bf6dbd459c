import type { FastifyInstance } from 'fastify';
import type { Dataset } from '../dataset/dataset.js';
import '../embed/sql-embed.js';
import { StrataError } from '../errors.js';
import type { SqlResponse } from './viewer/wire.js';

/** Rows a query bar answer carries at most (the total is always given). */
export const SQL_MAX_ROWS = 10_000;

/** GET /api/sql?q=…[&limit=N]: the viewer's query bar, through the same `ds.sql` path as the API and CLI. */
export function registerSqlRoute(app: FastifyInstance, ds: Dataset): void {
  app.get<{ Querystring: { q?: string; limit?: string } }>('/api/sql', async (req): Promise<SqlResponse> => {
    const q = req.query.q;
    if (!q?.trim()) {
      throw new StrataError('INVALID_ARGUMENT', 'the query bar sent no query', {
        field: 'q',
        hint: 'e.g. SELECT label, count(*) FROM ds GROUP BY label',
      });
    }
    const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > SQL_MAX_ROWS) {
      throw new StrataError('INVALID_ARGUMENT', `limit must be an integer in 1..${SQL_MAX_ROWS}`, { field: 'limit' });
    }
    const table = await ds.sql(q);
    const columns = table.schema.fields.map((f) => f.name);
    const rows: unknown[][] = [];
    for (let i = 0; i < Math.min(limit, table.numRows); i++) {
      const row = (table.get(i) as { toJSON(): Record<string, unknown> } | null)?.toJSON() ?? {};
      rows.push(columns.map((c) => jsonCell(row[c])));
    }
    return { columns, rows, total: table.numRows };
  });
}

/** An Arrow cell as JSON: bigint → number (string beyond 2^53), vectors → arrays, BLOBs → "<n bytes>". */
function jsonCell(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, jsonCell);
  if (Array.isArray(v)) return v.map(jsonCell);
  if (typeof v === 'object') {
    const j = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof j === 'function') return jsonCell(j.call(v));
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonCell(x)]));
  }
  return v;
}
