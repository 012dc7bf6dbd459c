/**
 * CSV sources (src/tables reads them: RFC 4180, a header line). Column types are inferred over all
 * rows — numbers (int64 when all integers, else float64), true/false, ISO timestamps, else strings;
 * an empty cell is null — unless the source declares a schema.
 */
import type { Table } from 'apache-arrow';
import { collectTable, readTableFile } from '../../tables/read.js';
import type { TableDtype } from '../definitions/types.js';

export async function readCsvFile(path: string, schema?: Readonly<Record<string, TableDtype>>): Promise<Table> {
  return collectTable(readTableFile(path, { format: 'csv', schema, inferRows: Number.POSITIVE_INFINITY }));
}
