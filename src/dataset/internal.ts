/**
 * The shared state behind a Dataset and its views, reachable only from src/dataset: the layers
 * above read through `DatasetReader` (read.ts) and write through the dataset's methods and
 * transactions. test/layers.test.ts checks that nothing outside src/dataset touches it.
 */
import { StrataError } from '../errors.js';
import type { DatasetCore } from './core.js';

const cores = new WeakMap<object, DatasetCore>();

/** Records `core` as the state of `ds` (called by the Dataset constructor). */
export function bindCore(ds: object, core: DatasetCore): void {
  cores.set(ds, core);
}

/** The state of a Dataset (or view); INVALID_ARGUMENT for anything else. */
export function coreOf(ds: object): DatasetCore {
  const core = cores.get(ds);
  if (!core) {
    throw new StrataError('INVALID_ARGUMENT', 'expected a Dataset opened by Dataset.open or Dataset.create', {
      hint: 'pass the Dataset (or a view of it) itself',
    });
  }
  return core;
}
