/**
 * CSV (RFC 4180: quoted fields, doubled quotes, CRLF). The first line is the header. Column types are
 * inferred over all rows — numbers (int64 when all integers, else float64), true/false, ISO
 * timestamps, else strings; an empty cell is null — unless the source declares a schema.
 */
import { readFile } from 'node:fs/promises';
import type { Table } from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { tableFromRecords } from '../build.js';
import { looksLikeTimestamp } from '../dtypes.js';
import type { Dtype } from '../types.js';
import { readFailure } from './errors.js';

export function parseCsv(text: string, file = 'csv'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted)
    throw new StrataError('CORRUPT', `${file}: unterminated quoted field`, { file, line, hint: 'close the quote' });
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function inferCsv(cells: string[]): Dtype {
  let num = true;
  let int = true;
  let bool = true;
  let ts = true;
  let any = false;
  for (const c of cells) {
    if (c === '') continue;
    any = true;
    if (num) {
      const x = Number(c);
      if (c.trim() === '' || !Number.isFinite(x)) num = false;
      else if (!Number.isInteger(x) || /[.eE]/.test(c)) int = false;
    }
    if (bool && !/^(true|false)$/i.test(c)) bool = false;
    if (ts && !looksLikeTimestamp(c)) ts = false;
    if (!num && !bool && !ts) return 'string';
  }
  if (!any) return 'string';
  if (num) return int ? 'int64' : 'float64';
  if (bool) return 'bool';
  if (ts) return 'timestamp';
  return 'string';
}

export async function readCsvFile(path: string, schema?: Readonly<Record<string, Dtype>>): Promise<Table> {
  const text = await readFile(path, 'utf8').catch((err) => readFailure(path, err));
  const rows = parseCsv(text, path);
  if (rows.length === 0)
    throw new StrataError('CORRUPT', `${path} is empty`, { uri: path, hint: 'a CSV source needs a header line' });
  const header = rows[0];
  const body = rows.slice(1);
  const dtypes: Record<string, Dtype> = {};
  header.forEach((name, j) => {
    dtypes[name] = schema?.[name] ?? inferCsv(body.map((r) => r[j] ?? ''));
  });
  const records = body.map((r, i) => {
    if (r.length !== header.length) {
      throw new StrataError('CORRUPT', `${path}: row ${i + 2} has ${r.length} fields, header has ${header.length}`, {
        uri: path,
        file: path,
        line: i + 2,
      });
    }
    const o: Record<string, unknown> = {};
    header.forEach((name, j) => {
      const c = r[j];
      o[name] = c === '' ? null : c;
    });
    return o;
  });
  return tableFromRecords(records, { columns: header, dtypes });
}
