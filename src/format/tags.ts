import { StrataError, isStrataError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { decodeCheckedJson, encodeCheckedJson } from './json-file.js';
import { readAnyManifest, tryReadManifest } from './latest.js';
import { type Ref, TAGS_PREFIX, refOf, validateRefName } from './refs.js';

/** A named version: `tags/<name>.json`. */
export interface Tag {
  readonly name: string;
  /** The version it names (of `branch`). */
  readonly version: number;
  /** The branch whose version it names; null for main. */
  readonly branch: string | null;
  /** When the tag was created (ms since the epoch). */
  readonly timestampMs: number;
}

export function tagKey(name: string): string {
  validateRefName(name, 'tag');
  return `${TAGS_PREFIX}${name}.json`;
}

function decodeTag(bytes: Uint8Array, key: string): Tag {
  const t = decodeCheckedJson<Tag>(bytes, key, 'tag');
  if (
    typeof t.name !== 'string' ||
    !Number.isSafeInteger(t.version) ||
    t.version < 0 ||
    !(t.branch === null || typeof t.branch === 'string') ||
    typeof t.timestampMs !== 'number'
  ) {
    throw new StrataError('CORRUPT', `tag ${key} is not a Strata tag`, {
      key,
      hint: 'delete the tag and create it again',
    });
  }
  return { name: t.name, version: t.version, branch: t.branch, timestampMs: t.timestampMs };
}

/**
 * Publishes tag `name` for `version` of `ref` (put-if-absent: CONFLICT when the tag exists,
 * NOT_FOUND when the version does not). Tags are not versions: no manifest is written.
 */
export async function createTag(
  storage: Storage,
  name: string,
  version: number,
  ref: Ref,
  signal?: AbortSignal,
): Promise<Tag> {
  const key = tagKey(name);
  await readAnyManifest(storage, version, signal, ref);
  const tag: Tag = { name, version, branch: ref.branch, timestampMs: Date.now() };
  try {
    await storage.putIfAbsent(key, encodeCheckedJson(tag), { signal, contentType: 'application/json' });
  } catch (err) {
    if (!isStrataError(err, 'CONFLICT')) throw err;
    throw new StrataError('CONFLICT', `tag ${name} already exists in ${storage.uri}`, {
      uri: storage.uri,
      key,
      hint: 'delete it first (deleteTag) or choose another name',
    });
  }
  // A vacuum that listed tags before this one was written may have deleted the version meanwhile.
  if (!(await tryReadManifest(storage, version, signal, ref))) {
    await storage.delete(key, { signal });
    await readAnyManifest(storage, version, signal, ref);
  }
  return tag;
}

/** Tag `name`; NOT_FOUND when it does not exist, CORRUPT when damaged. */
export async function readTag(storage: Storage, name: string, signal?: AbortSignal): Promise<Tag> {
  const key = tagKey(name);
  try {
    return decodeTag(await storage.get(key, { signal }), key);
  } catch (err) {
    if (!isStrataError(err, 'NOT_FOUND')) throw err;
    throw new StrataError('NOT_FOUND', `tag ${name} does not exist in ${storage.uri}`, {
      uri: storage.uri,
      key,
      hint: 'list tags with ds.tags() or `strata tags <uri>`',
    });
  }
}

/** Every tag, by name. A damaged tag file is CORRUPT naming its key (vacuum must not guess what it protects). */
export async function listTags(storage: Storage, signal?: AbortSignal): Promise<Tag[]> {
  const keys = (await storage.list(TAGS_PREFIX, { signal })).filter((k) => /^tags\/[^/]+\.json$/.test(k));
  const tags = await Promise.all(
    keys.map(async (key) => {
      try {
        return decodeTag(await storage.get(key, { signal }), key);
      } catch (err) {
        if (isStrataError(err, 'NOT_FOUND')) return undefined; // deleted meanwhile
        throw err;
      }
    }),
  );
  return tags.filter((t): t is Tag => t !== undefined).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Deletes tag `name` (NOT_FOUND when absent); the versions it kept become collectable by vacuum. */
export async function deleteTag(storage: Storage, name: string, signal?: AbortSignal): Promise<void> {
  await readTag(storage, name, signal);
  await storage.delete(tagKey(name), { signal });
}

/** The ref a tag names. */
export function tagRef(tag: Tag): Ref {
  return refOf(tag.branch);
}
