import { StrataError, isStrataError, throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type Action, collision } from './actions.js';
import { type ApplyContext, applyActions } from './apply.js';
import { writeLatestHint, tryReadManifest } from './latest.js';
import { type AnyManifest, type ManifestV2, encodeManifestV2, isV2, schemaOf } from './manifest-v2.js';
import { MAIN, type Ref, refLabel } from './refs.js';

export interface CommitOptions extends Omit<ApplyContext, 'storage' | 'readVersion'> {
  /** Publication attempts (the first plus rebases) before giving up with CONFLICT. Default 100. */
  readonly maxCommitAttempts?: number;
  /** Time budget for the commit, rebases included, before giving up with TIMEOUT. Default 120 000. */
  readonly commitTimeoutMs?: number;
  /** The version key space to publish in (main or a branch). Default main. */
  readonly ref?: Ref;
  /**
   * The actions to apply onto a given base, when they depend on it (a branch merge shifts the ids
   * of the branch's new fragments and rows). Default: `actions` as given. Commutation is checked on `actions`.
   */
  readonly actionsFor?: (base: AnyManifest) => readonly Action[] | Promise<readonly Action[]>;
  /** Called with each version published since the base before rebasing onto it; may throw (e.g. CONFLICT). */
  readonly inspect?: (m: ManifestV2) => void;
}

const BACKOFF_BASE_MS = 20;
const BACKOFF_CAP_MS = 2000;

/**
 * Publishes `actions` applied to `base` as version base+1 (put-if-absent). When another writer
 * published that version first, reads every version since, checks that their operations commute
 * with `actions` (CONFLICT naming what collided otherwise), and after a jittered exponential
 * backoff catches up again, re-applies onto the newest version and retries. Writes the latest hint after success.
 */
export async function commitActions(
  storage: Storage,
  base: AnyManifest,
  actions: readonly Action[],
  options: CommitOptions,
): Promise<ManifestV2> {
  const maxAttempts = options.maxCommitAttempts ?? 100;
  const timeoutMs = options.commitTimeoutMs ?? 120_000;
  const started = performance.now();
  const ref = options.ref ?? MAIN;
  const ctx: ApplyContext = { ...options, storage, readVersion: base.version };
  let current = base;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal, 'commit');
    const next = await applyActions(current, (await options.actionsFor?.(current)) ?? actions, ctx);
    try {
      await storage.putIfAbsent(ref.versionKey(next.version), encodeManifestV2(next), {
        signal: options.signal,
        contentType: 'application/json',
      });
      await writeLatestHint(storage, next.version, options.signal, ref);
      return next;
    } catch (err) {
      if (!isStrataError(err, 'CONFLICT')) throw err;
    }
    if (attempt >= maxAttempts) {
      throw new StrataError('CONFLICT', `gave up committing to ${storage.uri} after ${attempt} attempts`, {
        uri: storage.uri,
        hint: 'too many concurrent writers; raise maxCommitAttempts or retry later',
      });
    }
    if (performance.now() - started > timeoutMs) {
      throw new StrataError('TIMEOUT', `commit to ${storage.uri} did not succeed within ${timeoutMs} ms`, {
        uri: storage.uri,
        hint: 'raise commitTimeoutMs or retry later',
      });
    }
    // catch up (a CONFLICT shows at once), back off, and catch up again: versions published during
    // the wait are read before the retry, so it targets the version after the newest one (a retry
    // based on what was read before a wait of up to BACKOFF_CAP_MS was stale whenever another writer
    // published meanwhile: a writer whose backoff had grown kept losing until its time budget ran out)
    current = await catchUp(storage, current, actions, options.signal, ref, undefined, options.inspect);
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt - 1, 16));
    await sleep(Math.random() * ceiling, options.signal);
    current = await catchUp(storage, current, actions, options.signal, ref, undefined, options.inspect);
  }
}

/**
 * Reads the versions of `ref` after `from` and checks each one's operation against `mine`; returns
 * the newest. With `upTo`, every version up to it must exist (CONFLICT when one was vacuumed).
 */
export async function catchUp(
  storage: Storage,
  from: AnyManifest,
  mine: readonly Action[],
  signal?: AbortSignal,
  ref: Ref = MAIN,
  upTo?: number,
  inspect?: (m: ManifestV2) => void,
): Promise<AnyManifest> {
  let latest = from;
  for (;;) {
    const m = await tryReadManifest(storage, latest.version + 1, signal, ref);
    if (!m && upTo !== undefined && latest.version < upTo) {
      throw new StrataError(
        'CONFLICT',
        `version ${latest.version + 1} of ${refLabel(ref)} of ${storage.uri} was vacuumed: its changes cannot be checked`,
        {
          uri: storage.uri,
          version: latest.version + 1,
          hint: 'the branch forked before the retention window; re-create it from a recent version',
        },
      );
    }
    if (!m) return latest;
    if (!isV2(m)) {
      throw new StrataError(
        'CONFLICT',
        `version ${m.version} of ${storage.uri} was written by an older Strata (format v1)`,
        {
          uri: storage.uri,
          version: m.version,
          hint: 'reopen the dataset at its latest version and apply the change again',
        },
      );
    }
    inspect?.(m);
    // names as the writer last saw them (before a rename or drop in m), new columns' from m
    const names = new Map([...m.schema, ...schemaOf(latest)].map((c) => [c.id, c.name]));
    for (const theirs of m.operation.actions) {
      for (const a of mine) {
        const what = collision(a, theirs, (id) => names.get(id) ?? id);
        if (what) {
          throw new StrataError('CONFLICT', `version ${m.version} of ${storage.uri} also changed ${what}`, {
            uri: storage.uri,
            version: m.version,
            collision: what,
            hint: 'reopen the dataset at its latest version and apply the change again',
          });
        }
      }
    }
    latest = m;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new StrataError('ABORTED', 'commit aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
