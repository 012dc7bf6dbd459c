/** JSON Lines sources (src/tables reads them): types inferred over all rows unless the source declares a schema. */
import type { Table } from 'apache-arrow';
import { collectTable, readTableFile } from '../../tables/read.js';
import type { Dtype } from '../types.js';

export async function readJsonlFile(path: string, schema?: Readonly<Record<string, Dtype>>): Promise<Table> {
  return collectTable(readTableFile(path, { format: 'jsonl', schema, inferRows: Number.POSITIVE_INFINITY }));
}
