/** JSON Lines: one object per line; blank lines skipped; types inferred unless the source declares a schema. */
import { readFile } from 'node:fs/promises';
import type { Table } from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { tableFromRecords } from '../build.js';
import type { Dtype } from '../types.js';
import { readFailure } from './errors.js';

export async function readJsonlFile(path: string, schema?: Readonly<Record<string, Dtype>>): Promise<Table> {
  const text = await readFile(path, 'utf8').catch((err) => readFailure(path, err));
  const records: Record<string, unknown>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new StrataError('CORRUPT', `${path}:${i + 1} is not valid JSON`, {
        uri: path,
        file: path,
        line: i + 1,
        cause: err,
        hint: 'one JSON object per line',
      });
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new StrataError('CORRUPT', `${path}:${i + 1} is not a JSON object`, { uri: path, file: path, line: i + 1 });
    }
    records.push(obj as Record<string, unknown>);
  }
  return tableFromRecords(records, { dtypes: schema });
}
