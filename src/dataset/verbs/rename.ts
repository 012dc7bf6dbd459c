import { StrataError } from '../../errors.js';
import { validateColumnName } from '../schema.js';
import { type ViewPlan, findColumn, viewColumns, withColumns } from './view.js';

/**
 * The view with columns renamed (`{ old: 'new' }`); nothing is written (`renameColumn` commits a
 * rename). NOT_FOUND for an unknown column, CONFLICT when two columns would share a name.
 */
export function rename(plan: ViewPlan, mapping: Readonly<Record<string, string>>): ViewPlan {
  for (const [from, to] of Object.entries(mapping)) {
    findColumn(plan, from, 'rename');
    validateColumnName(to);
  }
  const columns = viewColumns(plan).map((c) => (Object.hasOwn(mapping, c.name) ? { ...c, name: mapping[c.name] } : c));
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) {
      throw new StrataError('CONFLICT', `rename: two columns would be named ${c.name}`, {
        column: c.name,
        hint: 'rename or drop the other column too',
      });
    }
    seen.add(c.name);
  }
  return withColumns(plan, columns);
}
