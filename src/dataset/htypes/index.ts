import { StrataError } from '../../errors.js';
import { DTYPES, type DType } from '../../format/dtype.js';
import { type ColumnSpec, type ColumnSpecInput, HTYPES, type Htype } from '../schema.js';
import { bbox } from './bbox.js';
import { classLabel } from './class-label.js';
import { embedding } from './embedding.js';
import { generic } from './generic.js';
import type { HtypeCodec } from './htype.js';
import { image } from './image.js';
import { json } from './json.js';
import { link } from './link.js';
import { text } from './text.js';
import { video } from './video.js';

export const HTYPE_CODECS: Readonly<Record<Htype, HtypeCodec>> = {
  image,
  video,
  class_label: classLabel,
  bbox,
  embedding,
  text,
  json,
  generic,
  link,
};

export function codecFor(htype: string, column: string): HtypeCodec {
  const c = HTYPE_CODECS[htype as Htype];
  if (!c) {
    throw new StrataError('UNSUPPORTED', `column ${column} has htype ${htype}, unknown to this version of Strata`, {
      column,
      hint: 'upgrade Strata',
    });
  }
  return c;
}

/** Turns the shorthand forms ('text', 'float32') into a full ColumnSpec. */
export function normalizeSpec(name: string, input: ColumnSpecInput): ColumnSpec {
  if (typeof input === 'string') {
    if ((HTYPES as readonly string[]).includes(input)) {
      if (input === 'embedding' || input === 'generic') {
        throw new StrataError('INVALID_ARGUMENT', `column ${name}: htype ${input} needs options`, {
          column: name,
          hint:
            input === 'embedding'
              ? "write { htype: 'embedding', dim: 512 }"
              : "write { htype: 'generic', dtype: 'float32' }",
        });
      }
      return { htype: input } as ColumnSpec;
    }
    if ((DTYPES as readonly string[]).includes(input)) return { htype: 'generic', dtype: input as DType };
    throw new StrataError('INVALID_ARGUMENT', `column ${name}: unknown type ${JSON.stringify(input)}`, {
      column: name,
      hint: `use an htype (${HTYPES.join(', ')}) or a dtype (${DTYPES.join(', ')})`,
    });
  }
  if (!input || typeof input !== 'object' || !(HTYPES as readonly string[]).includes(input.htype)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `column ${name}: unknown htype ${JSON.stringify((input as { htype?: unknown })?.htype)}`,
      {
        column: name,
        hint: `use one of ${HTYPES.join(', ')}`,
      },
    );
  }
  return input;
}

export type { HtypeCodec, CellContext, EncodedCell } from './htype.js';
export type { Tensor } from './generic.js';
