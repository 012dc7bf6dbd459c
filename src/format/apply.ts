import { StrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type Action, sameColumnSpec } from './actions.js';
import {
  type AnyManifest,
  type ColumnSchema,
  type FragmentRef,
  type ManifestV2,
  MANIFEST_V2,
  PAGE_FRAGMENTS,
  type PageRef,
  isV2,
  schemaOf,
} from './manifest-v2.js';
import { MANIFEST_FORMAT } from './manifest.js';
import { readPage, writePage } from './pages.js';

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
  const pages: PageRef[] = v2 ? [...base.fragments.pages] : [];
  const tail: FragmentRef[] = v2 ? [...base.fragments.tail] : [];
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

  for (const a of actions) {
    switch (a.type) {
      case 'migrate':
        if (!v2 && (base.length > 0 || base.columns.some((c) => c.length > 0))) {
          tail.push({ id: 0, key: a.key, rows: base.length, deleted: 0, deletion: null, rowIdStart: 0 });
          nextFragmentId = 1;
        }
        break;
      case 'append':
        for (const f of a.fragments) {
          tail.push({
            id: nextFragmentId++,
            key: f.key,
            rows: f.rows,
            deleted: 0,
            deletion: null,
            rowIdStart: nextRowId,
          });
          nextRowId += f.rows;
          length += f.rows;
          physicalRows += f.rows;
        }
        break;
      case 'fill':
        await replaceFragment(a, pages, tail, ctx);
        break;
      case 'addColumn': {
        const existing = schema.find((c) => c.name === a.column.name);
        if (!existing) schema.push(a.column);
        else if (existing.id !== a.column.id) {
          if (!sameColumnSpec(existing, a.column) || ctx.columnsWithData.has(a.column.id))
            throw conflict(`column ${a.column.name} (added concurrently)`, { column: a.column.name });
          remap.set(a.column.id, existing.id);
        }
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
  while (tail.length > PAGE_FRAGMENTS)
    pages.push(await writePage(ctx.storage, tail.splice(0, PAGE_FRAGMENTS), ctx.signal));
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
    fragments: { pages, tail },
    operation: { actions },
    readVersion: ctx.readVersion,
    ...(ctx.merged ? { merged: ctx.merged } : {}),
  };
}

/** Points fragment `a.fragmentId` at the filled file (in the tail, or by rewriting its page). */
async function replaceFragment(
  a: Extract<Action, { type: 'fill' }>,
  pages: PageRef[],
  tail: FragmentRef[],
  ctx: ApplyContext,
): Promise<void> {
  const swap = async (ref: FragmentRef): Promise<FragmentRef> => ({
    ...ref,
    key: ref.key === a.baseKey ? a.newKey : await ctx.refill(a, ref.key),
  });
  const t = tail.findIndex((r) => r.id === a.fragmentId);
  if (t >= 0) {
    tail[t] = await swap(tail[t]);
    return;
  }
  for (let p = 0; p < pages.length; p++) {
    if (a.fragmentId < pages[p].minId || a.fragmentId > pages[p].maxId) continue;
    const refs = [...(await readPage(ctx.storage, pages[p].key, ctx.signal)).fragments];
    const i = refs.findIndex((r) => r.id === a.fragmentId);
    if (i < 0) continue;
    refs[i] = await swap(refs[i]);
    pages[p] = await writePage(ctx.storage, refs, ctx.signal);
    return;
  }
  throw conflict(`fragment ${a.fragmentId} (it no longer exists)`, { fragment: a.fragmentId });
}
