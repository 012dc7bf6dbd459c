/** Arrow IPC sources (file or stream format; src/tables reads them). */
import type { Table } from 'apache-arrow';
import { collectTable, readTableFile } from '../../tables/read.js';

export async function readArrowFile(path: string): Promise<Table> {
  return collectTable(readTableFile(path, { format: 'arrow' }));
}
