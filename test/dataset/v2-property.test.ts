import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dataset/dataset.js';
import { BACKENDS, type Backend, startBackend } from '../helpers/backends.js';
import { rng as prng } from '../helpers/random.js';

interface Row {
  readonly id: number;
  readonly key: number;
  readonly label: string;
  readonly caption: string;
}

/** A ref's rows plus its row id counter; `base` = how many leading rows are the fork's, untouched. */
interface Model {
  rows: Row[];
  nextId: number;
  base: number;
}

const LABELS = ['a', 'b', 'c'];
const schema = { key: 'int32', label: { htype: 'class_label' }, caption: 'text' } as const;

async function expectRows(ds: Dataset, rows: readonly Row[], what: string): Promise<void> {
  const [key, label, caption] = await Promise.all([ds.values('key'), ds.values('label'), ds.values('caption')]);
  const got = key.map((k, i) => ({ key: k, label: label[i], caption: caption[i] }));
  expect(got, what).toEqual(rows.map(({ key, label, caption }) => ({ key, label, caption })));
  expect(Array.from(await ds.rowIds()), what).toEqual(rows.map((r) => r.id));
  for (const [i, r] of rows.entries()) expect(await ds.rowPosition(r.id), what).toBe(i);
}

/**
 * One random row change on `ds` (append, delete by predicate, update by row ids, upsert), mirrored
 * in `m`; returns whether it committed a version.
 */
async function change(ds: Dataset, m: Model, pick: (n: number) => number, tag: string, key: () => number) {
  const op = m.rows.length === 0 ? 0 : pick(4);
  const moveToEnd = (ids: readonly number[], edit: (r: Row) => Row) => {
    const moved = m.rows.filter((r) => ids.includes(r.id)).map(edit);
    m.rows = [...m.rows.filter((r) => !ids.includes(r.id)), ...moved];
  };
  if (op === 0) {
    const rows = Array.from({ length: 1 + pick(5) }, () => ({ key: key(), label: LABELS[pick(3)], caption: tag }));
    await ds.append(rows);
    await ds.commit('append');
    for (const r of rows) m.rows.push({ id: m.nextId++, ...r });
    return true;
  }
  if (op === 1) {
    const label = LABELS[pick(3)];
    const gone = m.rows.filter((r) => r.label === label);
    expect(await ds.delete({ label })).toBe(gone.length);
    m.base -= m.rows.slice(0, m.base).filter((r) => r.label === label).length;
    m.rows = m.rows.filter((r) => r.label !== label);
    return gone.length > 0;
  }
  if (op === 2) {
    const ids = [...new Set(Array.from({ length: 1 + pick(3) }, () => m.rows[pick(m.rows.length)].id))];
    expect(await ds.update({ rowIds: ids }, { caption: `u${tag}` })).toBe(ids.length);
    m.base -= m.rows.slice(0, m.base).filter((r) => ids.includes(r.id)).length;
    moveToEnd(ids, (r) => ({ ...r, caption: `u${tag}` }));
    return true;
  }
  const existing = m.rows[pick(m.rows.length)];
  const fresh = key();
  const result = await ds.merge(
    [
      { key: existing.key, label: 'c' },
      { key: fresh, label: 'a', caption: `m${tag}` },
    ],
    { on: 'key' },
  );
  expect(result).toEqual({ updated: 1, inserted: 1 });
  if (m.rows.indexOf(existing) < m.base) m.base--;
  moveToEnd([existing.id], (r) => ({ ...r, label: 'c' }));
  m.rows.push({ id: m.nextId++, key: fresh, label: 'a', caption: `m${tag}` });
  return true;
}

/** Seeds per backend: every seed on memory, fewer where each request is a file or an HTTP call. */
const SEEDS: Record<(typeof BACKENDS)[number], number[]> = {
  memory: [1, 2, 3, 4, 5, 6],
  local: [7, 8, 9, 10],
  s3: [11, 12],
};

describe.each(BACKENDS)('format v2 model-based: changes, optimize, tags and branches (%s)', (backendName) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend(backendName);
  });
  afterAll(async () => {
    await backend.stop();
  });

  it('time travel to every version, tag and branch version gives exactly its rows and row ids', async () => {
    const options = backend.options;
    for (const seed of SEEDS[backendName]) {
      const rand = prng(seed);
      const pick = (n: number) => Math.floor(rand() * n);
      let nextKey = 0;
      const key = () => nextKey++;
      const uri = backend.uri();
      const ds = await Dataset.create(uri, { ...options, schema, chunkSizeBytes: 256 });
      const main: Model = { rows: [], nextId: 0, base: 0 };
      const history: Row[][] = [[]];
      const tags = new Map<string, number>();
      const branchHistory: { name: string; versions: Map<number, Row[]> }[] = [];
      const record = (what: string) => {
        history[ds.version] = [...main.rows];
        return expectRows(ds, main.rows, what);
      };
      for (let step = 0; step < 20; step++) {
        const op = main.rows.length === 0 ? 0 : pick(7);
        const what = `seed ${seed} step ${step} op ${op}`;
        if (op <= 3) {
          if (await change(ds, main, pick, `${step}`, key)) await record(what);
        } else if (op === 4) {
          const before = ds.version;
          const r = await ds.optimize({ targetFragmentRows: 1 + pick(12), maxDeletedFraction: rand() / 2 });
          expect(r.version).toBe(ds.version);
          if (ds.version !== before) await record(what);
          else await expectRows(ds, main.rows, what);
        } else if (op === 5) {
          const name = `t${step}`;
          const version = history.length - 1 - pick(Math.min(3, history.length));
          if (!history[version]) continue;
          await ds.tag(name, version);
          tags.set(name, version);
        } else {
          // a branch from the open version: changes there, appends on main meanwhile, then a merge
          const name = `b${step}`;
          const b = await ds.branch(name);
          const forkIds = new Set(main.rows.map((r) => r.id));
          const bm: Model = { rows: [...main.rows], nextId: main.nextId, base: main.rows.length };
          const versions = new Map<number, Row[]>([[b.version, [...bm.rows]]]);
          branchHistory.push({ name, versions });
          let optimized = false;
          for (let k = 0; k < 2 + pick(3); k++) {
            if (bm.rows.length > 0 && pick(4) === 0) {
              // compaction on the branch: same rows, ids and order in fewer fragments
              const before = b.version;
              await b.optimize({ targetFragmentRows: 1 + pick(12), maxDeletedFraction: rand() / 2 });
              if (b.version !== before) {
                optimized = true;
                versions.set(b.version, [...bm.rows]);
              }
              await expectRows(b, bm.rows, `${what} branch optimize ${k}`);
            } else if (await change(b, bm, pick, `${name}.${k}`, key)) {
              versions.set(b.version, [...bm.rows]);
              await expectRows(b, bm.rows, `${what} branch change ${k}`);
            }
          }
          const forkNextId = main.nextId;
          // main meanwhile: nothing, appends, or deletes of fork rows the branch left untouched (a
          // branch compaction rewrote fork fragments, so main stays put then: its merge fast-forwards)
          const untouched = bm.rows.slice(0, bm.base).map((r) => r.id);
          const mainMove = optimized ? 0 : pick(untouched.length > 0 ? 3 : 2);
          const mainMoved = mainMove !== 0;
          if (mainMove === 1) {
            const rows = Array.from({ length: 1 + pick(3) }, () => ({ key: key(), label: 'b', caption: `x${step}` }));
            await ds.append(rows);
            await ds.commit('append while a branch is open');
            for (const r of rows) main.rows.push({ id: main.nextId++, ...r });
            await record(`${what} main append`);
          } else if (mainMove === 2) {
            const ids = [...new Set(Array.from({ length: 1 + pick(2) }, () => untouched[pick(untouched.length)]))];
            expect(await ds.delete({ rowIds: ids })).toBe(ids.length);
            main.rows = main.rows.filter((r) => !ids.includes(r.id));
            bm.rows = bm.rows.filter((r) => !ids.includes(r.id)); // gone from what the merge keeps
            bm.base -= ids.length;
            await record(`${what} main delete`);
          }
          await ds.mergeBranch(name);
          if (!mainMoved) {
            main.rows = [...bm.rows];
            main.nextId = bm.nextId;
          } else {
            // replayed: the fork's rows the branch kept untouched stay in place, main's appends
            // follow, then the branch's new rows; rows the branch appended get ids past main's
            const shift = main.nextId - forkNextId;
            const kept = new Set(bm.rows.slice(0, bm.base).map((r) => r.id));
            const added = bm.rows.slice(bm.base).map((r) => (r.id >= forkNextId ? { ...r, id: r.id + shift } : r));
            main.rows = [...main.rows.filter((r) => !forkIds.has(r.id) || kept.has(r.id)), ...added];
            main.nextId = bm.nextId + shift;
          }
          await record(`${what} merge`);
          await b.close();
        }
      }
      for (let v = 0; v < history.length; v++) {
        if (!history[v]) continue;
        await expectRows(await ds.checkout(v), history[v], `seed ${seed} version ${v}`);
      }
      for (const [name, version] of tags) {
        const t = await Dataset.open(uri, { ...options, tag: name });
        expect(t.version).toBe(version);
        await expectRows(t, history[version], `seed ${seed} tag ${name}`);
        await t.close();
      }
      for (const { name, versions } of branchHistory) {
        for (const [v, rows] of versions) {
          const b = await Dataset.open(uri, { ...options, branch: name, version: v });
          await expectRows(b, rows, `seed ${seed} branch ${name} version ${v}`);
          await b.close();
        }
      }
      await ds.close();
    }
  }, 240_000);
});

describe('format v2 branch merge ids (memory)', () => {
  it('a merge replayed after main moved shifts the ids of rows the branch appended, in their update copies too', async () => {
    const ds = await Dataset.create(`memory://v2-merge-ids-${Date.now()}`, { schema });
    await ds.append([
      { key: 0, caption: 'a' },
      { key: 1, caption: 'a' },
    ]);
    await ds.commit('two');
    const b = await ds.branch('b');
    await b.append([
      { key: 2, caption: 'b' },
      { key: 3, caption: 'b' },
    ]);
    await b.commit('branch rows');
    expect(await b.update({ rowIds: [3] }, { caption: 'u' })).toBe(1); // the copy's file lists id 3
    await ds.append({ key: 4, caption: 'm' }); // takes id 2: the branch's rows become 3 and 4
    await ds.commit('main row');
    await ds.mergeBranch('b');
    expect(await ds.values('key')).toEqual([0, 1, 4, 2, 3]);
    expect(await ds.values('caption')).toEqual(['a', 'a', 'm', 'b', 'u']);
    expect(Array.from(await ds.rowIds())).toEqual([0, 1, 2, 3, 4]);
    expect(await ds.rowPosition(4)).toBe(4);
    await b.close();
    await ds.close();
  });
});
