/**
 * Arrow IPC, file or stream format, a record batch at a time: apache-arrow's reader is given a
 * file handle over the stored object, so it reads the footer and each batch as byte ranges. The
 * batches come as written (a declared schema is not applied: the file's types are its own).
 */
import * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { sizeOf, storageFileHandle } from './bytes.js';

export async function* arrowBatches(
  storage: Storage,
  key: string,
  o: { readonly signal?: AbortSignal },
): AsyncGenerator<A.RecordBatch> {
  const size = await sizeOf(storage, key, o.signal);
  const corrupt = (cause: unknown) =>
    new StrataError('CORRUPT', `${key} is not an Arrow IPC file`, {
      uri: storage.uri,
      file: key,
      cause,
      hint: 'write it with tableToIPC / pyarrow.feather',
    });
  let reader: A.RecordBatchReader;
  try {
    const handle = storageFileHandle(storage, key, size, o.signal);
    // apache-arrow types `from` by its inputs; a file handle gives an async reader
    const opening: unknown = A.RecordBatchReader.from(handle as never);
    reader = await (opening as Promise<A.RecordBatchReader>);
    await reader.open();
  } catch (cause) {
    if (cause instanceof StrataError) throw cause;
    throw corrupt(cause);
  }
  try {
    let any = false;
    for await (const batch of reader as AsyncIterable<A.RecordBatch>) {
      throwIfAborted(o.signal, `reading ${key}`);
      any = true;
      yield batch;
    }
    if (!any && reader.schema) yield new A.RecordBatch(reader.schema);
  } catch (cause) {
    if (cause instanceof StrataError) throw cause;
    throw corrupt(cause);
  } finally {
    await reader.cancel();
  }
}
