import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type Action, sameColumnSpec } from './actions.js';
import {
  type AnyManifest,
  type ColumnSchema,
  type FragmentRef,
  type ManifestV2,
  MANIFEST_V2,
  isV2,
  schemaOf,
} from './manifest-v2.js';
import { MANIFEST_FORMAT } from './manifest.js';
import { FragmentListEditor } from './fragment-list.js';

export interface ApplyContext {
  readonly storage: Storage;
  readonly writer: string;
  readonly message: string;
  readonly readVersion: number;
  /** Column ids this writer stored data under (an identical concurrent addColumn cannot merge them). */
  readonly columnsWithData: ReadonlySet<string>;
  /**
   * A fill whose fragment file changed since the writer read it (another column was filled): writes
   * a new file = the current one plus this writer's segments, returns its key.
   */
  readonly refill: (action: Extract<Action, { type: 'fill' }>, currentKey: string) => Promise<string>;
  /**
   * A delete whose fragment's deletion file changed since the writer read it: writes the union of
   * the current file and this writer's deleted rows and returns it; CONFLICT naming the row when
   * the current file already deletes one of them.
   */
  readonly redelete?: (
    action: Extract<Action, { type: 'delete' }>,
    current: FragmentRef,
  ) => Promise<{ deletion: string; deleted: number }>;
  /** Recorded as the manifest's `merged` (a branch merge). */
  readonly merged?: ManifestV2['merged'];
  readonly signal?: AbortSignal;
}

function conflict(what: string, details: Record<string, unknown> = {}): StrataError {
  return new StrataError('CONFLICT', `a concurrent commit changed ${what}`, {
    ...details,
    hint: 'reopen the dataset at its latest version and apply the change again',
  });
}

/**
 * Builds the manifest that follows `base` with `actions` applied (version base+1). Ids and row ids
 * are assigned here, so re-applying onto a newer base never rewrites a fragment file; fragment
 * refs beyond PAGE_FRAGMENTS in the tail are sealed into new page objects.
 */
export async function applyActions(
  base: AnyManifest,
  actions: readonly Action[],
  ctx: ApplyContext,
): Promise<ManifestV2> {
  const v2 = isV2(base);
  const schema: ColumnSchema[] = [...schemaOf(base)];
  let meta: Record<string, unknown> = { ...base.meta };
  const list = new FragmentListEditor(ctx.storage, v2 ? base.fragments : { pages: [], tail: [] }, ctx.signal);
  let length = base.length;
  let physicalRows = v2 ? base.physicalRows : base.length;
  let nextRowId = v2 ? base.nextRowId : base.length;
  let nextFragmentId = v2 ? base.nextFragmentId : 0;
  const remap = new Map<string, string>();
  const col = (id: string): number => {
    const i = schema.findIndex((c) => c.id === (remap.get(id) ?? id));
    if (i < 0) throw conflict(`the schema (column ${id} no longer exists)`, { column: id });
    return i;
  };
  const setColMeta = (i: number, m: Record<string, unknown>) => (schema[i] = { ...schema[i], meta: m });
  const recorded: Action[] = [];

  for (const a of actions) {
    recorded.push(a);
    switch (a.type) {
      case 'migrate':
        if (!v2 && (base.length > 0 || base.columns.some((c) => c.length > 0))) {
          list.tail.push({ id: 0, key: a.key, rows: base.length, deleted: 0, deletion: null, rowIdStart: 0 });
          nextFragmentId = 1;
        }
        break;
      case 'append':
        for (const f of a.fragments) {
          list.tail.push({
            id: nextFragmentId++,
            key: f.key,
            rows: f.rows,
            deleted: 0,
            deletion: null,
            rowIdStart: f.ownRowIds ? null : nextRowId,
          });
          if (!f.ownRowIds) nextRowId += f.rows;
          length += f.rows;
          physicalRows += f.rows;
        }
        break;
      case 'fill':
        await replaceFragment(a, list, ctx);
        break;
      case 'delete': {
        const found = await list.update(a.fragmentId, async (ref) => {
          const next =
            ref.deletion === a.baseDeletion
              ? { deletion: a.deletion, deleted: a.deleted }
              : await redelete(ctx, a, ref);
          length -= next.deleted - ref.deleted;
          recorded[recorded.length - 1] = { ...a, baseDeletion: ref.deletion, ...next };
          return { ...ref, ...next };
        });
        if (!found) throw conflict(`fragment ${a.fragmentId} (it no longer exists)`, { fragment: a.fragmentId });
        break;
      }
      case 'rewrite': {
        const added: FragmentRef[] = a.newFragments.map((f) => ({
          id: nextFragmentId++,
          key: f.key,
          rows: f.rows,
          deleted: 0,
          deletion: null,
          rowIdStart: null,
        }));
        const removed = await list.replace(a.fragmentIds, added);
        const live = removed.reduce((n, r) => n + r.rows - r.deleted, 0);
        const rows = added.reduce((n, r) => n + r.rows, 0);
        if (live !== rows) throw conflict(`fragment ${removed[0].id} (rows were deleted)`, { fragment: removed[0].id });
        length += rows - live;
        physicalRows += rows - removed.reduce((n, r) => n + r.rows, 0);
        break;
      }
      case 'addColumn': {
        const existing = schema.find((c) => c.name === a.column.name);
        if (!existing) schema.push(a.column);
        else if (existing.id === a.column.id) {
          // the shards of a staged job add their output column under one id (see jobColumnId): the
          // same column, whose metadata is the union of theirs; a key they set differently collides
          const m = { ...existing.meta };
          for (const [k, v] of Object.entries(a.column.meta)) {
            if (k in m && JSON.stringify(m[k]) !== JSON.stringify(v))
              throw conflict(`metadata key ${k} of column ${a.column.name} (added with different values)`, {
                column: a.column.name,
                field: k,
              });
            m[k] = v;
          }
          if (!sameColumnSpec({ ...existing, meta: {} }, { ...a.column, meta: {} }))
            throw conflict(`column ${a.column.name} (added with different specs)`, { column: a.column.name });
          schema[schema.indexOf(existing)] = { ...existing, meta: m };
        } else if (existing.id !== a.column.id) {
          if (!sameColumnSpec(existing, a.column) || ctx.columnsWithData.has(a.column.id))
            throw conflict(`column ${a.column.name} (added concurrently)`, { column: a.column.name });
          remap.set(a.column.id, existing.id);
        }
        break;
      }
      case 'dropColumn': {
        const i = schema.findIndex((c) => c.id === (remap.get(a.column) ?? a.column));
        if (i >= 0) schema.splice(i, 1); // absent: a concurrent commit dropped it too
        break;
      }
      case 'renameColumn': {
        const i = col(a.column);
        const taken = schema.find((c) => c.name === a.name);
        if (taken && taken.id !== schema[i].id)
          throw conflict(`column name ${a.name} (taken concurrently)`, { column: a.name });
        schema[i] = { ...schema[i], name: a.name };
        break;
      }
      case 'setColumnMeta': {
        const i = col(a.column);
        const m = { ...schema[i].meta };
        if (a.remove) delete m[a.key];
        else m[a.key] = a.value;
        setColMeta(i, m);
        break;
      }
      case 'addClassNames': {
        const i = col(a.column);
        const current = (schema[i].meta.classNames as string[] | undefined) ?? [];
        const merged = [...current, ...a.names.filter((n) => !current.includes(n))];
        a.names.forEach((n, k) => {
          if (merged.indexOf(n) !== a.baseCount + k) {
            throw conflict(`the class names of column ${schema[i].name} (both added new names)`, {
              column: schema[i].name,
              field: 'classNames',
            });
          }
        });
        setColMeta(i, { ...schema[i].meta, classNames: merged });
        break;
      }
      case 'setMeta':
        meta = { ...meta };
        if (a.remove) delete meta[a.key];
        else meta[a.key] = a.value;
        break;
    }
  }
  const fragments = await list.seal();
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_V2,
    version: base.version + 1,
    parent: base.version,
    timestampMs: Date.now(),
    message: ctx.message,
    writer: ctx.writer,
    length,
    physicalRows,
    nextRowId,
    nextFragmentId,
    schema,
    meta,
    fragments,
    operation: { actions: recorded },
    readVersion: ctx.readVersion,
    ...(ctx.merged ? { merged: ctx.merged } : {}),
  };
}

/** Points fragment `a.fragmentId` at the filled file (CONFLICT when it no longer exists). */
async function replaceFragment(
  a: Extract<Action, { type: 'fill' }>,
  list: FragmentListEditor,
  ctx: ApplyContext,
): Promise<void> {
  const found = await list.update(a.fragmentId, async (ref) => ({
    ...ref,
    key: ref.key === a.baseKey ? a.newKey : await ctx.refill(a, ref.key),
  }));
  if (!found) throw conflict(`fragment ${a.fragmentId} (it no longer exists)`, { fragment: a.fragmentId });
}

function redelete(
  ctx: ApplyContext,
  a: Extract<Action, { type: 'delete' }>,
  ref: FragmentRef,
): Promise<{ deletion: string; deleted: number }> {
  if (!ctx.redelete) throw conflict(`the deleted rows of fragment ${a.fragmentId}`, { fragment: a.fragmentId });
  return ctx.redelete(a, ref);
}
