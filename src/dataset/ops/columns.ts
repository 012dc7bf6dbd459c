import { StrataError, throwIfAborted } from '../../errors.js';
import type { DatasetCore } from '../core.js';
import { infoColumnName, isHiddenColumn, validateColumnName } from '../schema.js';

/**
 * Drops column `name` (and its hidden info column, if any) as one commit. Metadata only: earlier
 * versions still read it. Derived columns and indexes built from it are not dropped.
 */
export async function dropColumn(core: DatasetCore, name: string, signal?: AbortSignal): Promise<number> {
  assertNoPending(core, 'dropColumn');
  const col = visibleColumn(core, name);
  const info = core.manifest.columns.find((c) => c.name === infoColumnName(col.name));
  return inOneCommit(core, signal, `drop column ${name}`, () => {
    const txn = core.transaction(signal);
    txn.dropColumn(name);
    if (info) txn.dropColumn(info.name);
  });
}

/** Renames column `from` to `to` (and its hidden info column, if any) as one commit. */
export async function renameColumn(core: DatasetCore, from: string, to: string, signal?: AbortSignal): Promise<number> {
  assertNoPending(core, 'renameColumn');
  visibleColumn(core, from);
  validateColumnName(to);
  const info = core.manifest.columns.find((c) => c.name === infoColumnName(from));
  for (const taken of info ? [to, infoColumnName(to)] : [to]) {
    if (core.manifest.columns.some((c) => c.name === taken)) {
      throw new StrataError('CONFLICT', `column ${taken} already exists in ${core.uri}`, {
        column: taken,
        uri: core.uri,
        hint: 'choose another name, or drop that column first',
      });
    }
  }
  if (from === to) return core.manifest.version;
  return inOneCommit(core, signal, `rename column ${from} to ${to}`, () => {
    const txn = core.transaction(signal);
    txn.renameColumn(from, to);
    if (info) txn.renameColumn(info.name, infoColumnName(to));
  });
}

function visibleColumn(core: DatasetCore, name: string) {
  if (isHiddenColumn(name)) {
    throw new StrataError('NOT_FOUND', `column ${name} does not exist in ${core.uri}`, {
      column: name,
      uri: core.uri,
      hint: 'hidden info columns change with their column',
    });
  }
  return core.columnManifest(name); // NOT_FOUND naming the columns there are
}

async function inOneCommit(
  core: DatasetCore,
  signal: AbortSignal | undefined,
  message: string,
  change: () => void,
): Promise<number> {
  try {
    change();
    throwIfAborted(signal, message);
    return await core.commit(message);
  } catch (err) {
    await core.rollback();
    throw err;
  }
}

function assertNoPending(core: DatasetCore, op: string): void {
  if (core.hasPendingChanges) {
    throw new StrataError('INVALID_ARGUMENT', `${op} needs a dataset without uncommitted changes (${core.uri})`, {
      uri: core.uri,
      hint: 'commit() or rollback() first: each dropColumn and renameColumn is its own commit',
    });
  }
}
