/** Arrow IPC files (file or stream format). */
import { readFile } from 'node:fs/promises';
import { tableFromIPC, type Table } from 'apache-arrow';
import { StrataError } from '../../errors.js';
import { readFailure } from './errors.js';

export async function readArrowFile(path: string): Promise<Table> {
  const bytes = await readFile(path).catch((err) => readFailure(path, err));
  try {
    return tableFromIPC(bytes);
  } catch (err) {
    throw new StrataError('CORRUPT', `${path} is not an Arrow IPC file`, {
      uri: path,
      cause: err,
      hint: 'write it with tableToIPC / pyarrow.feather',
    });
  }
}
