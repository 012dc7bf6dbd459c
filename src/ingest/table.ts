import { StrataError } from '../errors.js';
import type { DType } from '../format/dtype.js';
import { parquetLib, readRecords } from '../interop/parquetjs.js';

/** Table files that map media paths to columns. */
export const TABLE_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

export function tableFormatOf(key: string): TableFormat | undefined {
  const ext = key.toLowerCase().split('.').pop();
  if (ext === 'csv') return 'csv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'parquet') return 'parquet';
  return undefined;
}

/** A table file's records, and the column types the file declares (Parquet only). */
export interface ParsedTable {
  readonly records: Record<string, unknown>[];
  /** Numeric column types from a Parquet schema; a TIMESTAMP column is int64 epoch microseconds. */
  readonly dtypes: Readonly<Record<string, DType>>;
}

/** Parses a table file's bytes into records (CSV cells: numbers, JSON arrays/objects, true/false and '' → null are recognised). */
export async function parseTable(bytes: Uint8Array, key: string): Promise<ParsedTable> {
  const format = tableFormatOf(key);
  if (format === 'csv') return { records: parseCsv(new TextDecoder().decode(bytes), key), dtypes: {} };
  if (format === 'jsonl') return { records: parseJsonl(new TextDecoder().decode(bytes), key), dtypes: {} };
  if (format === 'parquet') {
    const { ParquetReader } = parquetLib();
    let reader;
    try {
      reader = await ParquetReader.openBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
        rawStatistics: true,
      });
    } catch (cause) {
      throw new StrataError('CORRUPT', `table ${key} is not a readable Parquet file`, {
        file: key,
        cause,
        hint: 'rewrite it with pyarrow or DuckDB',
      });
    }
    const dtypes: Record<string, DType> = {};
    for (const [name, f] of Object.entries(reader.schema.fields)) {
      const dtype = f.fields || f.repetitionType === 'REPEATED' ? undefined : PARQUET_DTYPES[f.primitiveType ?? ''];
      if (dtype) dtypes[name] = dtype;
    }
    let records: Record<string, unknown>[];
    try {
      ({ records } = await readRecords(reader));
    } finally {
      await reader.close();
    }
    return { records: records.map((r) => plain(r) as Record<string, unknown>), dtypes };
  }
  throw new StrataError('UNSUPPORTED', `table ${key}: unknown format`, {
    file: key,
    hint: `use ${TABLE_FORMATS.join(', ')}`,
  });
}

/** Strata dtypes of Parquet's numeric physical types (UTF8 and BYTE_ARRAY are left to inference). */
const PARQUET_DTYPES: Readonly<Record<string, DType>> = {
  BOOLEAN: 'bool',
  INT32: 'int32',
  INT64: 'int64',
  FLOAT: 'float32',
  DOUBLE: 'float64',
};

/** Parquet values as plain JS (Buffers of UTF-8 stay strings; bigints that fit become numbers; {list:[{element}]} unwrapped). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.list) && Object.keys(o).length === 1)
      return o.list.map((e) =>
        plain((e as Record<string, unknown>)?.element ?? (e as Record<string, unknown>)?.item ?? e),
      );
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function parseJsonl(text: string, key: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (cause) {
      throw new StrataError('INVALID_ARGUMENT', `table ${key}, line ${i + 1}: not valid JSON`, {
        file: key,
        line: i + 1,
        cause,
        hint: 'one JSON object per line',
      });
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      throw new StrataError('INVALID_ARGUMENT', `table ${key}, line ${i + 1}: expected a JSON object`, {
        file: key,
        line: i + 1,
      });
    }
    out.push(v as Record<string, unknown>);
  }
  return out;
}

/** RFC 4180 CSV with a header row: quoted fields, "" escapes, newlines inside quotes, CRLF. */
export function parseCsv(text: string, key = 'table.csv'): Record<string, unknown>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (quoted)
    throw new StrataError('INVALID_ARGUMENT', `table ${key}: unterminated quoted field`, {
      file: key,
      hint: 'close the quote',
    });
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim());
  return rows.slice(1).map((cells, r) => {
    if (cells.length !== header.length) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `table ${key}, line ${r + 2}: ${cells.length} fields, the header has ${header.length}`,
        {
          file: key,
          line: r + 2,
          hint: 'quote fields that contain commas',
        },
      );
    }
    return Object.fromEntries(header.map((h, k) => [h, csvValue(cells[k])]));
  });
}

function csvValue(s: string): unknown {
  const t = s.trim();
  if (t === '') return null;
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return JSON.parse(t);
    } catch {
      return s;
    }
  }
  return s;
}
