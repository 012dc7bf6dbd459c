import type { ColumnSchema } from './manifest-v2.js';

/** What a commit did, recorded in its manifest so a concurrent writer can rebase onto it. */
export type Action =
  /**
   * New fragments, in order (ids and row ids are assigned when applied). A fragment with
   * `ownRowIds` lists its rows' ids in its file (an update's new copies keep the old ids).
   */
  | { readonly type: 'append'; readonly fragments: readonly AppendedFragment[] }
  /**
   * Deletes rows of fragment `fragmentId`: its deletion file `baseDeletion` (null: none) is
   * replaced by `deletion`, which lists `deleted` rows (the old ones plus the new). When the
   * fragment's deletion file changed meanwhile, the writer writes the union again (CONFLICT naming
   * the row when both deleted the same row).
   */
  | {
      readonly type: 'delete';
      readonly fragmentId: number;
      readonly baseDeletion: string | null;
      readonly deletion: string;
      readonly deleted: number;
    }
  /**
   * New segments for `columns` (ids) in fragment `fragmentId`: the fragment's file `baseKey` is
   * replaced by `newKey` (a copy with the segments added).
   */
  | {
      readonly type: 'fill';
      readonly columns: readonly string[];
      readonly fragmentId: number;
      readonly baseKey: string;
      readonly newKey: string;
    }
  | { readonly type: 'addColumn'; readonly column: ColumnSchema }
  /** Sets (or with `remove`, deletes) one key of a column's metadata. */
  | {
      readonly type: 'setColumnMeta';
      readonly column: string;
      readonly key: string;
      readonly value?: unknown;
      readonly remove?: boolean;
    }
  /** Appends class names (set union); this writer's rows use ids baseCount.. for `names`. */
  | {
      readonly type: 'addClassNames';
      readonly column: string;
      readonly names: readonly string[];
      readonly baseCount: number;
    }
  /** Sets (or with `remove`, deletes) one key of the dataset metadata. */
  | { readonly type: 'setMeta'; readonly key: string; readonly value?: unknown; readonly remove?: boolean }
  /**
   * Compaction: fragments `fragmentIds` are replaced by `newFragments` (placed where the first of
   * them was; none when every row was deleted), which hold their live rows in the same order, without
   * deletions, and whose files carry the rows' ids (`rowIds`).
   */
  | {
      readonly type: 'rewrite';
      readonly fragmentIds: readonly number[];
      readonly newFragments: readonly { readonly key: string; readonly rows: number }[];
    }
  /**
   * Removes column `column` (id) from the schema. Metadata only: fragment files keep its segments,
   * and versions before it still read the column.
   */
  | { readonly type: 'dropColumn'; readonly column: string }
  /** Renames column `column` (id) to `name`; its id, data and metadata stay. */
  | { readonly type: 'renameColumn'; readonly column: string; readonly name: string }
  /** Upgrades a v1 base: its rows become fragment 0, file `key`. A no-op on a v2 base. */
  | { readonly type: 'migrate'; readonly key: string };

export interface AppendedFragment {
  readonly key: string;
  readonly rows: number;
  readonly ownRowIds?: true;
}

export const ACTION_TYPES = [
  'append',
  'delete',
  'fill',
  'addColumn',
  'setColumnMeta',
  'addClassNames',
  'setMeta',
  'migrate',
  'rewrite',
  'dropColumn',
  'renameColumn',
] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Schema fields that must match for two addColumn actions of one name to merge. */
export function sameColumnSpec(a: ColumnSchema, b: ColumnSchema): boolean {
  return (
    a.name === b.name &&
    a.htype === b.htype &&
    a.dtype === b.dtype &&
    a.sampleCompression === b.sampleCompression &&
    a.chunkCompression === b.chunkCompression &&
    same(a.meta, b.meta)
  );
}

/**
 * Why `mine` cannot be re-applied after `theirs` (a description of what collided), or undefined
 * when they commute. `columnName` resolves column ids for messages.
 */
export function collision(mine: Action, theirs: Action, columnName: (id: string) => string): string | undefined {
  if (!(ACTION_TYPES as readonly string[]).includes(theirs.type)) return `an unknown operation "${theirs.type}"`;
  const dropped = droppedColumnCollision(mine, theirs, columnName) ?? droppedColumnCollision(theirs, mine, columnName);
  if (dropped !== undefined) return dropped;
  switch (mine.type) {
    case 'append':
    case 'migrate':
      return undefined;
    case 'delete': // deletes of one fragment re-union when applied (CONFLICT there on a shared row)
      if (theirs.type === 'rewrite' && theirs.fragmentIds.includes(mine.fragmentId))
        return `fragment ${mine.fragmentId} (rewritten by a concurrent optimize)`;
      return undefined;
    case 'fill':
      if (theirs.type === 'rewrite' && theirs.fragmentIds.includes(mine.fragmentId))
        return `fragment ${mine.fragmentId} (rewritten by a concurrent optimize)`;
      if (theirs.type === 'fill' && theirs.fragmentId === mine.fragmentId) {
        const both = mine.columns.filter((c) => theirs.columns.includes(c));
        if (both.length > 0)
          return `column ${both.map(columnName).join(', ')} of fragment ${mine.fragmentId} (filled by both)`;
      }
      return undefined;
    case 'dropColumn':
      return undefined; // against actions touching the column: droppedColumnCollision
    case 'renameColumn':
      if (theirs.type === 'renameColumn' && theirs.column === mine.column && theirs.name !== mine.name)
        return `column ${columnName(mine.column)} (renamed by both, to ${theirs.name} and ${mine.name})`;
      if (theirs.type === 'renameColumn' && theirs.column !== mine.column && theirs.name === mine.name)
        return `column name ${mine.name} (taken by a concurrent rename)`;
      if (theirs.type === 'addColumn' && theirs.column.name === mine.name)
        return `column name ${mine.name} (taken by a concurrent addColumn)`;
      return undefined;
    case 'addColumn':
      if (theirs.type === 'renameColumn' && theirs.name === mine.column.name)
        return `column name ${mine.column.name} (taken by a concurrent rename)`;
      if (
        theirs.type === 'addColumn' &&
        theirs.column.name === mine.column.name &&
        !sameColumnSpec(theirs.column, mine.column)
      )
        return `column ${mine.column.name} (added by both with different specs)`;
      return undefined;
    case 'setColumnMeta':
      if (
        theirs.type === 'setColumnMeta' &&
        theirs.column === mine.column &&
        theirs.key === mine.key &&
        !(same(theirs.value, mine.value) && !!theirs.remove === !!mine.remove)
      )
        return `metadata key ${mine.key} of column ${columnName(mine.column)}`;
      if (theirs.type === 'addClassNames' && theirs.column === mine.column && mine.key === 'classNames')
        return `metadata key classNames of column ${columnName(mine.column)}`;
      return undefined;
    case 'addClassNames':
      if (theirs.type === 'setColumnMeta' && theirs.column === mine.column && theirs.key === 'classNames')
        return `metadata key classNames of column ${columnName(mine.column)}`;
      return undefined; // union; id shifts are checked when applied
    case 'rewrite': {
      const touched = (id: number) => mine.fragmentIds.includes(id);
      // any action naming one fragment (fill, and delete) changes it under the rewrite
      const one = (theirs as { fragmentId?: unknown }).fragmentId;
      if (typeof one === 'number' && touched(one)) return `fragment ${one} (changed while being rewritten)`;
      if (theirs.type === 'rewrite') {
        const both = theirs.fragmentIds.find(touched);
        if (both !== undefined) return `fragment ${both} (rewritten by both)`;
      }
      return undefined;
    }
    case 'setMeta':
      if (
        theirs.type === 'setMeta' &&
        theirs.key === mine.key &&
        !(same(theirs.value, mine.value) && !!theirs.remove === !!mine.remove)
      )
        return `dataset metadata key ${mine.key}`;
      return undefined;
  }
}

/** Column ids an action changes the data or schema entry of (not appends, which cover every column). */
function columnsTouched(a: Action): readonly string[] {
  switch (a.type) {
    case 'fill':
      return a.columns;
    case 'setColumnMeta':
    case 'addClassNames':
    case 'renameColumn':
    case 'dropColumn':
      return [a.column];
    default:
      return [];
  }
}

/** A drop (`drop`) collides with any other action touching the same column (including another drop). */
function droppedColumnCollision(drop: Action, other: Action, columnName: (id: string) => string): string | undefined {
  if (drop.type !== 'dropColumn') return undefined;
  if (other.type === 'dropColumn' && other.column === drop.column) return undefined; // both drop it: same result
  if (!columnsTouched(other).includes(drop.column)) return undefined;
  return `column ${columnName(drop.column)} (dropped while a concurrent commit changed it)`;
}
