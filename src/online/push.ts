/**
 * Streaming: `pushToOnline` hands events to the engine (`repo.push`, which updates its tiles and
 * returns the current values of every view the events touched) and writes those values online.
 */
import { throwIfAborted } from '../errors.js';
import { toWriteRows } from './materialize.js';
import { indexRepo, viewOf } from './repo-index.js';
import type { OnlineStore, OnlineWriteRow } from './store.js';
import type { OnlineRepo, PushedBatch } from './types.js';

export interface PushToOnlineOptions {
  readonly signal?: AbortSignal;
}

export interface PushToOnlineResult {
  /** Rows the engine returned for each view it updated. */
  readonly views: readonly { readonly view: string; readonly rows: number }[];
  readonly rows: number;
  readonly written: number;
  /** Rows the store already held newer values for. */
  readonly skipped: number;
}

export async function pushToOnline(
  repo: OnlineRepo,
  store: OnlineStore,
  source: string,
  events: readonly Record<string, unknown>[],
  options: PushToOnlineOptions = {},
): Promise<PushToOnlineResult> {
  throwIfAborted(options.signal, `push to ${source}`);
  const updates = await repo.push(source, events);
  return writePushed(repo, store, updates, options);
}

/** Writes the values the engine returned for pushed events (one store batch for all views). */
export async function writePushed(
  repo: OnlineRepo,
  store: OnlineStore,
  updates: readonly PushedBatch[],
  options: PushToOnlineOptions = {},
): Promise<PushToOnlineResult> {
  const index = indexRepo(repo);
  const rows: OnlineWriteRow[] = [];
  const perView: { view: string; rows: number }[] = [];
  for (const u of updates) {
    const w = toWriteRows(viewOf(index, u.view), u);
    for (const r of w) rows.push(r);
    perView.push({ view: u.view, rows: w.length });
  }
  throwIfAborted(options.signal, 'online write of pushed events');
  // One store batch for all views: one transaction (SQLite) / one pipeline (Redis).
  const result = await store.write(rows, { signal: options.signal });
  return { views: perView, rows: rows.length, written: result.written, skipped: result.skipped };
}
