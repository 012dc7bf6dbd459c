/** Appending rows to an Arrow table (the push log onto a batch source). */
import * as A from 'apache-arrow';
import { coerce } from './build.js';
import { dtypeOfArrow } from '../definitions/dtypes.js';

/** A vector of any Arrow type (typed, unlike `A.Vector`'s default `any`). */
type Vec = A.Vector<A.DataType>;

/** Arrow's name of a type, e.g. `Int32` or `List<Utf8>`: every concrete type class defines `toString`. */
function typeName(type: A.DataType): string {
  const named: { toString(): string } = type;
  return String(named);
}

/** `a` followed by `b`'s rows; columns of `b` are cast to `a`'s types; missing columns become null. */
export function concatTables(a: A.Table, b: A.Table): A.Table {
  if (b.numRows === 0) return a;
  if (a.numRows === 0 && a.schema.fields.every((f) => b.getChild(f.name))) return b;
  const names = [...new Set([...a.schema.fields.map((f) => f.name), ...b.schema.fields.map((f) => f.name)])];
  const cols: Record<string, A.Vector> = {};
  for (const name of names) {
    const va = a.getChild(name) as Vec | null;
    const vb = b.getChild(name) as Vec | null;
    const type = (va ?? vb)!.type;
    const part = (v: Vec | null, n: number): A.Vector => {
      if (v && typeName(v.type) === typeName(type) && v.type.typeId === type.typeId) return v;
      const dtype = dtypeOfArrow(type);
      const vals = v ? [...v].map((x) => coerce(x, dtype)) : new Array(n).fill(null);
      return A.vectorFromArray(vals as never[], type as never);
    };
    cols[name] = part(va, a.numRows).concat(part(vb, b.numRows));
  }
  return new A.Table(cols);
}
