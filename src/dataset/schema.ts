import { StrataError } from '../errors.js';
import type { ChunkCodec, SampleCompression } from '../format/codec.js';
import type { DType } from '../format/dtype.js';

/** The kinds of column a dataset can hold (Deep Lake's htypes). */
export const HTYPES = [
  'image',
  'video',
  'class_label',
  'bbox',
  'embedding',
  'text',
  'json',
  'generic',
  'link',
] as const;
export type Htype = (typeof HTYPES)[number];

export const BBOX_FORMATS = ['ltrb', 'ltwh', 'ccwh'] as const;
export type BboxFormat = (typeof BBOX_FORMATS)[number];

/** What a user declares for one column in `Dataset.create(uri, { schema })`. */
export type ColumnSpec =
  | { readonly htype: 'image'; readonly sampleCompression?: SampleCompression }
  | { readonly htype: 'video'; readonly sampleCompression?: SampleCompression }
  | { readonly htype: 'class_label'; readonly classNames?: readonly string[] }
  | { readonly htype: 'bbox'; readonly format?: BboxFormat; readonly coords?: 'pixel' | 'fractional' }
  | { readonly htype: 'embedding'; readonly dim: number; readonly meta?: Record<string, unknown> }
  | { readonly htype: 'text' }
  | { readonly htype: 'json' }
  | {
      readonly htype: 'generic';
      readonly dtype: DType;
      readonly shape?: readonly number[];
      readonly chunkCompression?: ChunkCodec;
    }
  | { readonly htype: 'link'; readonly target?: 'image' | 'video' | 'file' };

/** A column spec may also be written as a bare htype name (`'text'`) or a dtype (`'float32'`). */
export type ColumnSpecInput = ColumnSpec | Htype | DType;

export type Schema = Readonly<Record<string, ColumnSpecInput>>;

/** The suffix of the hidden per-sample info column kept next to every media column. */
export const INFO_SUFFIX = '.__info';

export function infoColumnName(column: string): string {
  return `${column}${INFO_SUFFIX}`;
}

/** The suffix of the hidden per-row lineage ("stamp") column of a derived column (see derived/row-lineage.ts). */
export const LINEAGE_SUFFIX = '.__lineage';

export function isHiddenColumn(name: string): boolean {
  return name.endsWith(INFO_SUFFIX) || name.endsWith(LINEAGE_SUFFIX);
}

/** Names that would collide with JavaScript object machinery when rows are plain objects. */
export const RESERVED_COLUMN_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype'];

export function validateColumnName(name: string): void {
  if (RESERVED_COLUMN_NAMES.includes(name)) {
    throw new StrataError('INVALID_ARGUMENT', `column name ${JSON.stringify(name)} is reserved`, {
      column: name,
      hint: `rows are plain objects, so ${RESERVED_COLUMN_NAMES.join(', ')} cannot be column names; choose another`,
    });
  }
  if (!/^[A-Za-z_][A-Za-z0-9_\-./ ]{0,127}$/.test(name) || isHiddenColumn(name)) {
    throw new StrataError('INVALID_ARGUMENT', `column name ${JSON.stringify(name)} is not allowed`, {
      column: name,
      hint: `start with a letter or _, use letters, digits, _ - . / or space, at most 128 characters, not ending in ${INFO_SUFFIX} or ${LINEAGE_SUFFIX}`,
    });
  }
}
