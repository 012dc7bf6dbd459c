import type { ColumnSchema } from '../../format/manifest-v2.js';
import type { ColumnTyper, ScalarType } from './check.js';

/** The scalar type a filter sees for a column, or why it has none (media, tensors, json). */
export function scalarTypeOf(c: ColumnSchema): { type: ScalarType } | { problem: string } {
  switch (c.htype) {
    case 'text':
    case 'class_label':
      return { type: 'string' };
    case 'generic': {
      const shape = (c.meta as { shape?: readonly number[] }).shape;
      if (shape && shape.reduce((a, b) => a * b, 1) !== 1)
        return { problem: `holds tensors of shape [${shape.join(', ')}], not scalars` };
      return { type: c.dtype === 'bool' ? 'bool' : 'number' };
    }
    default:
      return { problem: `is a ${c.htype} column, not a scalar (number, string, bool or class label)` };
  }
}

/** A typer over the columns `visible` (a view's columns) of `schema`. */
export function columnTyper(schema: readonly ColumnSchema[], visible: readonly string[]): ColumnTyper {
  return (name) => {
    if (!visible.includes(name)) return undefined;
    const c = schema.find((x) => x.name === name);
    return c ? scalarTypeOf(c) : undefined;
  };
}
