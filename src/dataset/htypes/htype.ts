import type { Sample } from '../../format/chunk.js';
import type { NewColumn } from '../../format/transaction.js';
import type { DType } from '../../format/dtype.js';
import type { ColumnSpec } from '../schema.js';
import type { LinkResolver } from '../links.js';

/** Where a value is being encoded or decoded, for error messages and metadata updates. */
export interface CellContext {
  readonly column: string;
  readonly row: number;
  readonly dtype: DType;
  /** Column metadata; encoders may add to it (e.g. new class names) through `updateMeta`. */
  readonly meta: Readonly<Record<string, unknown>>;
  readonly updateMeta: (meta: Record<string, unknown>) => void;
  /** Opens linked files (htype `link`) with the dataset's link options. */
  readonly links: LinkResolver;
}

/** An encoded cell: the stored sample plus, for media, the small info record kept in the hidden info column. */
export interface EncodedCell {
  readonly sample: Sample | null;
  readonly info?: Readonly<Record<string, unknown>> | null;
}

/** One htype: how values are validated and stored, and how stored samples read back. */
export interface HtypeCodec {
  /** Media htypes keep an info column and read back as lazy cells. */
  readonly media: boolean;
  /** The stored column for a declared spec. */
  column(name: string, spec: ColumnSpec): Omit<NewColumn, 'name'>;
  encode(value: unknown, ctx: CellContext): Promise<EncodedCell> | EncodedCell;
  /** Tabular value of a stored sample (media htypes are wrapped in cells by the dataset instead). */
  decode(sample: Sample | null, ctx: Omit<CellContext, 'updateMeta' | 'links'>): unknown;
}
