/** Which explicit transaction (`ds.transaction()`) the running write belongs to, across awaits. */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The transaction a write runs for (undefined: the dataset's own implicit writes). */
export const writeScope = new AsyncLocalStorage<object>();
