/** JSON Lines sources (src/tables reads them): types inferred over all rows unless the source declares a schema. */
import type { Table } from 'apache-arrow';
import { collectTable, readTableFile } from '../../tables/read.js';
import type { TableDtype } from '../definitions/types.js';

export async function readJsonlFile(path: string, schema?: Readonly<Record<string, TableDtype>>): Promise<Table> {
  return collectTable(readTableFile(path, { format: 'jsonl', schema, inferRows: Number.POSITIVE_INFINITY }));
}
