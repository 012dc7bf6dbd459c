import type { ErrorDetails } from '../errors.js';

/** Where a media sample comes from, carried into every error so the user can find it. */
export interface MediaContext {
  readonly column?: string;
  readonly row?: number;
  /** Path, URL or a name for the bytes (e.g. a storage key). */
  readonly file?: string;
  /** Video frame index, when one frame failed. */
  readonly frame?: number;
}

/** " (column 'x', row 3, file a.jpg)" suffix for messages; empty without context. */
export function describeContext(context: MediaContext = {}): string {
  const parts = [
    context.column !== undefined ? `column '${context.column}'` : '',
    context.row !== undefined ? `row ${context.row}` : '',
    context.file !== undefined ? `file ${context.file}` : '',
    context.frame !== undefined ? `frame ${context.frame}` : '',
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Only the defined fields of a context, for StrataError details. */
export function contextDetails(context: MediaContext = {}): ErrorDetails {
  const out: { column?: string; row?: number; file?: string; frame?: number } = {};
  if (context.column !== undefined) out.column = context.column;
  if (context.row !== undefined) out.row = context.row;
  if (context.file !== undefined) out.file = context.file;
  if (context.frame !== undefined) out.frame = context.frame;
  return out;
}
