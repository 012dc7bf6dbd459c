/**
 * Pluggable source loading. `registerSourceLoader(kind, loader)` makes `kind` a valid source kind (or
 * takes over a built-in one); the loader returns the source's events as an Arrow table, or
 * `undefined` to fall through to the built-in loader (e.g. an S3 loader that leaves local paths alone).
 */
import type { Table } from 'apache-arrow';
import { StrataError } from '../../errors.js';
import type { Source } from '../definitions/types.js';

export interface SourceLoaderContext {
  /** The repository directory (relative paths are already resolved against it). */
  readonly dir: string;
  readonly signal?: AbortSignal;
}

export type SourceLoader = (source: Source, ctx: SourceLoaderContext) => Promise<Table | undefined> | Table | undefined;

const loaders = new Map<string, SourceLoader>();

/** Registers a loader for a source kind; returns a function that unregisters it. */
export function registerSourceLoader(kind: string, loader: SourceLoader): () => void {
  if (!kind || typeof loader !== 'function') {
    throw new StrataError('INVALID_ARGUMENT', 'registerSourceLoader needs a kind and a loader function', {
      field: 'kind',
    });
  }
  loaders.set(kind, loader);
  return () => {
    if (loaders.get(kind) === loader) loaders.delete(kind);
  };
}

export function registeredLoader(kind: string): SourceLoader | undefined {
  return loaders.get(kind);
}

export function registeredKinds(): string[] {
  return [...loaders.keys()];
}
