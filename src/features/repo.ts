/**
 * `FeatureRepo`: validated definitions plus the engine around them — training sets
 * (`getHistoricalFeatures`), backfill, the online contract (`latestValues`, `push`) and `apply`.
 *
 *   const repo = await FeatureRepo.load('./my_repo');               // strata.yaml + feature files
 *   const repo = await FeatureRepo.fromDefinitions([driver, trips, stats], { dir });
 */
import type * as A from 'apache-arrow';
import { StrataError, throwIfAborted } from '../errors.js';
import { checkShard, entityFilter, type Shard } from '../shard.js';
import { tableFromRecords } from './engine/build.js';
import { groupDefinitions } from './definitions/define.js';
import { dtypeOfArrow } from './definitions/dtypes.js';
import { resolveEngine, type Engine, type EngineOptions } from './engine/engine.js';
import { historicalFeatures, resolveRequest, type HistoricalOptions, type ViewAccess } from './retrieval/historical.js';
import {
  checkMemoryLimit,
  DEFAULT_MEMORY_LIMIT_BYTES,
  firstRows,
  mergeOrdered,
  partDicts,
  partitionCount,
  recodeTiles,
  type PartDict,
  type MemoryOptions,
  type PartOutput,
} from './retrieval/partitioned.js';
import { EntityPartitioner, SpillFiles } from './sources/spill.js';
import { latestBatches, partitionedLatestBatches } from './retrieval/latest.js';
import { planView, type ViewPlan } from './engine/plan.js';
import { applyRegistry, type ApplyResult } from './definitions/registry.js';
import { RetrievalJob, tableToRecords } from './retrieval/retrieval.js';
import { applyOnDemand, planOnDemand } from './retrieval/on-demand-train.js';
import type { OnDemandView } from './definitions/on-demand.js';
import { entityRowsTable, shardRows, type EntityRowsInput } from './retrieval/rows.js';
import {
  codeEvents,
  groupHashes,
  groupInputs,
  indexEvents,
  reportDropped,
  tilesFor,
  type CodedEvents,
  type IndexedEvents,
} from './engine/series.js';
import { buildTilesDirect, isSimplePlan } from './engine/tile-build.js';
import { loadSourceTable, sourceBatches, sourceBytes } from './sources/index.js';
import { readParquetSchema } from './sources/parquet.js';
import { registeredLoader } from './sources/registry.js';
import { PushState } from './stream/push.js';
import { StreamPartition } from './stream/partition.js';
import { concatTables } from './engine/tables.js';
import { tilesTable, type BackfillRange } from './retrieval/backfill.js';
import type {
  Definitions,
  TableDtype,
  Entity,
  FeatureRowBatch,
  FeatureService,
  FeatureView,
  LongOptions,
  PushedViewValues,
  Source,
} from './definitions/types.js';
import { validateDefinitions, type ValidatedRepo } from './definitions/validate.js';
import { FeatureStatsRecorder, trainingRuns } from './monitoring/recorder.js';
import {
  checkRunId,
  newRunId,
  readRuns,
  writeRun,
  type StatisticsQueryOptions,
  type StatisticsRun,
  type StatisticsRunRecord,
} from './monitoring/runs.js';
import { driftOfRuns, type DriftOptions, type ViewDriftReport } from './monitoring/drift.js';
import { loadYamlDefinitions } from './definitions/yaml.js';
import type { RepoLoggingSettings } from './definitions/logging.js';

export interface FeatureRepoOptions {
  /** Repository directory: relative source paths resolve against it; `apply()` writes its registry there. */
  readonly dir?: string;
  /** Project name stored in the registry. */
  readonly project?: string;
  /** Advanced tuning (execution paths, threads, streaming memory); every setting gives the same results. */
  readonly engine?: EngineOptions;
  /** Default memory limit of backfills, training sets and materialization (see {@link MemoryOptions}). Default 512 MiB. */
  readonly memoryLimitBytes?: number;
  /** Default folder for spill files. Default `os.tmpdir()`. */
  readonly spillDir?: string;
  /** Served-feature logging for the feature server (`logging:` in strata.yaml; docs/MONITORING.md). */
  readonly logging?: RepoLoggingSettings;
}

/** Options of `FeatureRepo.load` (directory and project come from the repo's `strata.yaml`). */
export interface FeatureRepoLoadOptions {
  /** Aborts reading the definitions. */
  readonly signal?: AbortSignal;
  /** Advanced tuning, as in {@link FeatureRepoOptions.engine}. */
  readonly engine?: EngineOptions;
  /** As in {@link FeatureRepoOptions.memoryLimitBytes}. */
  readonly memoryLimitBytes?: number;
  /** As in {@link FeatureRepoOptions.spillDir}. */
  readonly spillDir?: string;
}

export interface LatestValuesOptions extends LongOptions, MemoryOptions {
  readonly start?: Date;
  readonly end: Date;
  /** Only the entities of this shard (by a stable hash of the entity key; see shardOfEntity). */
  readonly shard?: Shard;
}

export interface BackfillOptions extends LongOptions, BackfillRange, MemoryOptions {
  /** Only the tiles of this shard's entities (by a stable hash of the entity key; see shardOfEntity). */
  readonly shard?: Shard;
  /**
   * Record statistics of the output columns as a run in `<dir>/.strata/stats/` (repos with a
   * directory only; see `statistics()`). Default true.
   */
  readonly statistics?: boolean;
  /** Id of the statistics run (shards of one run share it). Default: a new time-based id. */
  readonly runId?: string;
}

export interface StreamStats {
  /** Newest event time seen (ms); -Infinity before the first push. */
  readonly highWaterMarkMs: number;
  readonly accepted: number;
  /** Events older than the high-water mark minus the allowed lateness. */
  readonly droppedLate: number;
  readonly duplicates: number;
}

export class FeatureRepo {
  readonly dir?: string;
  readonly project?: string;
  /** Served-feature logging the feature server applies (from strata.yaml or the options). */
  readonly logging?: RepoLoggingSettings;
  readonly entities: readonly Entity[];
  readonly sources: readonly Source[];
  readonly views: readonly FeatureView[];
  readonly services: readonly FeatureService[];
  /** On-demand views (computed per request; `getOnlineFeatures` and training sets evaluate them). */
  readonly onDemandViews: readonly OnDemandView[];
  readonly #repo: ValidatedRepo;
  readonly #engine: Engine;
  readonly #memoryLimitBytes: number;
  readonly #spillDir: string | undefined;
  readonly #tables: Map<string, Promise<A.Table>>;
  readonly #plans = new Map<string, ViewPlan | null>();
  readonly #indexes = new Map<string, { table: A.Table; index: Promise<IndexedEvents> }>();
  readonly #push = new Map<string, PushState>();
  readonly #pushTables = new Map<string, { log: number; table: A.Table }>();
  #closed = false;

  private constructor(
    repo: ValidatedRepo,
    tables: Map<string, Promise<A.Table>>,
    engine: Engine,
    options: FeatureRepoOptions,
  ) {
    this.#repo = repo;
    this.#engine = engine;
    this.#memoryLimitBytes = checkMemoryLimit(options.memoryLimitBytes) ?? DEFAULT_MEMORY_LIMIT_BYTES;
    this.#spillDir = options.spillDir;
    this.#tables = tables;
    if (options.dir) this.dir = options.dir;
    if (options.project) this.project = options.project;
    if (options.logging) this.logging = options.logging;
    this.entities = [...repo.entities.values()];
    this.sources = [...repo.sources.values()];
    this.views = [...repo.views.values()];
    this.services = [...repo.services.values()];
    this.onDemandViews = [...repo.onDemandViews.values()];
  }

  /** Loads `strata.yaml` and its feature files from `dir`, validated (INVALID_ARGUMENT lists every problem). */
  static async load(dir: string, options: FeatureRepoLoadOptions = {}): Promise<FeatureRepo> {
    const engine = resolveEngine(options.engine);
    const { defs, project, logging } = await loadYamlDefinitions(dir);
    return FeatureRepo.#create(defs, {
      dir,
      ...(project ? { project } : {}),
      ...(logging ? { logging } : {}),
      engine,
      ...(options.memoryLimitBytes !== undefined ? { memoryLimitBytes: options.memoryLimitBytes } : {}),
      ...(options.spillDir !== undefined ? { spillDir: options.spillDir } : {}),
    });
  }

  /** Builds a repo from `define…` results (a flat list or `{ entities, sources, views, services }`). */
  static async fromDefinitions(
    defs: Definitions | readonly object[],
    options: FeatureRepoOptions = {},
  ): Promise<FeatureRepo> {
    return FeatureRepo.#create(groupDefinitions(defs), options);
  }

  static async #create(defs: Required<Definitions>, options: FeatureRepoOptions): Promise<FeatureRepo> {
    const engine = resolveEngine(options.engine);
    const limit = checkMemoryLimit(options.memoryLimitBytes) ?? DEFAULT_MEMORY_LIMIT_BYTES;
    const dir = options.dir ?? process.cwd();
    const tables = new Map<string, Promise<A.Table>>();
    const readColumns = async (s: Source): Promise<Record<string, TableDtype> | undefined> => {
      if (s.kind === 'parquet' && s.path && !registeredLoader('parquet')) return readParquetSchema(s.path);
      // a source larger than the memory limit: its types from the first batch, not the whole table
      const batches = partitionCount(await sourceBytes(s, { dir }), limit) > 1 ? sourceBatches(s, { dir }) : null;
      if (batches)
        for await (const b of batches)
          return Object.fromEntries(b.schema.fields.map((f) => [f.name, dtypeOfArrow(f.type as A.DataType)]));
      const p = loadSourceTable(s, { dir });
      tables.set(s.name, p);
      p.catch(() => tables.delete(s.name));
      const t = await p;
      return Object.fromEntries(t.schema.fields.map((f) => [f.name, dtypeOfArrow(f.type as A.DataType)]));
    };
    const repo = await validateDefinitions(defs, dir, readColumns);
    for (const name of tables.keys()) if (!repo.sources.has(name)) tables.delete(name);
    return new FeatureRepo(repo, tables, engine, options);
  }

  view(name: string): FeatureView {
    const v = this.#repo.views.get(name);
    if (!v)
      throw new StrataError('NOT_FOUND', `feature view ${name} does not exist`, {
        key: name,
        hint: `views: ${[...this.#repo.views.keys()].join(', ')}`,
      });
    return v;
  }

  source(name: string): Source {
    const s = this.#repo.sources.get(name);
    if (!s)
      throw new StrataError('NOT_FOUND', `source ${name} does not exist`, {
        key: name,
        hint: `sources: ${[...this.#repo.sources.keys()].join(', ')}`,
      });
    return s;
  }

  /** Stores the definitions as the next registry version in `<dir>/.strata/registry/`. */
  async apply(options: { readonly force?: boolean } = {}): Promise<ApplyResult> {
    this.#open();
    if (!this.dir)
      throw new StrataError('INVALID_ARGUMENT', 'this repo has no directory to hold its registry', {
        field: 'dir',
        hint: 'pass { dir } to fromDefinitions',
      });
    return applyRegistry(this.dir, this.#repo, { ...options, ...(this.project ? { project: this.project } : {}) });
  }

  /**
   * A training set: `entityRows` (join keys + `event_timestamp` + any labels) with the requested
   * features as of each row's time (rules in historical.ts and docs/FEATURES.md). Bad refs throw
   * INVALID_ARGUMENT here; the work runs on the job's first `toArrow()` / `toArray()` / `toParquet()`.
   */
  getHistoricalFeatures(entityRows: EntityRowsInput, options: HistoricalOptions): RetrievalJob {
    this.#open();
    const od = planOnDemand(this.#repo.views, this.#repo.services, this.#repo.onDemandViews, options);
    const req = od ? od.request : resolveRequest(this.#repo.views, this.#repo.services, options);
    if (options.statisticsRunId !== undefined) checkRunId(options.statisticsRunId);
    const shard = options.shard ? checkShard(options.shard) : undefined;
    const shardKeys = shard ? this.view(req.byView.keys().next().value!).entities : [];
    return new RetrievalJob(async () => {
      const all = await entityRowsTable(entityRows, options.signal);
      const rows = shard ? shardRows(all, shardKeys, shard) : all;
      const table = await this.#historical(rows, req, options);
      if (options.statisticsRunId !== undefined && this.dir) {
        for (const run of trainingRuns(table, req, (n) => this.view(n), options.statisticsRunId))
          await this.recordStatistics(run);
      }
      return od ? applyOnDemand(table, rows, od, options) : table;
    });
  }

  #historical(rows: A.Table, req: ReturnType<typeof resolveRequest>, options: HistoricalOptions): Promise<A.Table> {
    return historicalFeatures(
      {
        ...this.#access((src, o) => this.#sourceTable(src, o), true),
        partitioned: async (v, o) => {
          const source = this.source(v.source);
          const spill = await this.#spill(v, source, o);
          if (!spill) return null;
          const partitioner = new EntityPartitioner(v.entities, spill.count);
          return {
            count: spill.count,
            table: spill.schemaTable(),
            partitionOf: (keys) => partitioner.of(keys),
            access: async (p) => {
              const table = await spill.read(p);
              return this.#access(() => Promise.resolve(table), false);
            },
            close: () => spill.close(),
          };
        },
      },
      rows,
      req,
      options,
    );
  }

  /** Training-set access to views whose source rows `tableOf` gives (`cached`: the repo's indexes). */
  #access(tableOf: (source: Source, options: LongOptions) => Promise<A.Table>, cached: boolean): ViewAccess {
    return {
      engine: this.#engine,
      view: (n) => this.view(n),
      source: (n) => this.source(n),
      plan: (v) => this.#plan(v),
      index: async (v, o) => {
        if (cached) return this.#index(v, o);
        const source = this.source(v.source);
        return indexEvents(v, this.#plan(v), source, await tableOf(source, o), this.#engine.parallelMinEvents, o);
      },
      events: async (v, o) => {
        const source = this.source(v.source);
        const table = await tableOf(source, o);
        const coded = codeEvents(v, source, table);
        reportDropped(v, coded, o);
        return { table, coded };
      },
      pairInputs: async (v, o) => {
        const plan = this.#plan(v);
        const source = this.source(v.source);
        const table = await tableOf(source, o);
        if (!plan || (cached && this.#indexes.get(v.name)?.table === table)) return null;
        const coded = codeEvents(v, source, table);
        reportDropped(v, coded, o);
        const { vals, dicts } = groupInputs(plan, table, `source ${source.name} of view ${v.name}`);
        return { table, coded, vals, dicts, hashes: groupHashes(plan, vals, dicts) };
      },
    };
  }

  /**
   * The view's source split into entity partitions when it is larger than the memory limit
   * (partitioned.ts), else null (the source is read whole).
   */
  async #spill(view: FeatureView, source: Source, options: LongOptions & MemoryOptions): Promise<SpillFiles | null> {
    const limit = checkMemoryLimit(options.memoryLimitBytes) ?? this.#memoryLimitBytes;
    if (source.kind === 'push' || source.kind === 'stream') return null;
    const ctx = { dir: this.dir ?? process.cwd(), ...(options.signal ? { signal: options.signal } : {}) };
    const count = partitionCount(await sourceBytes(source, ctx), limit);
    const batches = count > 1 ? sourceBatches(source, ctx) : null;
    if (!batches) return null;
    const spillDir = options.spillDir ?? this.#spillDir;
    const spill = await SpillFiles.create(batches, view.entities, count, {
      what: `source ${source.name} of view ${view.name}`,
      bufferBytes: Math.max(1 << 20, Math.floor(limit / 4)),
      ...(spillDir !== undefined ? { spillDir } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    options.onProgress?.({ phase: `spill ${view.name}`, done: count, total: count, unit: 'partitions' });
    return spill;
  }

  /**
   * The tiles of an aggregation view over its whole source (see backfill.ts for the columns). In a
   * repo with a directory, statistics of the tile columns are recorded as a `backfill` run.
   */
  async backfill(viewName: string, options: BackfillOptions = {}): Promise<A.Table> {
    if (options.runId !== undefined) checkRunId(options.runId);
    const tiles = await this.#backfill(viewName, options);
    if (this.dir && options.statistics !== false) {
      const view = this.view(viewName);
      const rec = FeatureStatsRecorder.forTable(tiles, [...view.entities, 'tile_start']);
      rec.addTable(tiles);
      await this.recordStatistics({
        view: viewName,
        runId: options.runId ?? newRunId(),
        kind: 'backfill',
        rows: rec.rows,
        ...(options.shard ? { shard: options.shard } : {}),
        ...(options.start ? { startMs: options.start.getTime() } : {}),
        ...(options.end ? { endMs: options.end.getTime() } : {}),
        features: rec.features(),
      });
    }
    return tiles;
  }

  /** Whether `recordStatistics` stores anything (the repo has a directory). */
  get recordsStatistics(): boolean {
    return this.dir !== undefined;
  }

  /**
   * Stores one run's (or shard's) statistics in `<dir>/.strata/stats/<view>/` (what materialize and
   * backfill call); returns the file, or undefined when the repo has no directory.
   */
  async recordStatistics(run: StatisticsRunRecord): Promise<string | undefined> {
    this.#open();
    this.view(run.view);
    if (!this.dir) return undefined;
    return writeRun(this.dir, run);
  }

  /**
   * Recorded statistics runs of a view (or of every view), latest first; a sharded run's shards
   * merged. Empty for a repo without a directory.
   */
  async statistics(viewName?: string, options: StatisticsQueryOptions = {}): Promise<StatisticsRun[]> {
    this.#open();
    if (viewName !== undefined) this.view(viewName);
    if (!this.dir) return [];
    return readRuns(this.dir, viewName, options);
  }

  /**
   * Drift of a view's latest run (or `options.run`) from a reference run: per feature the scores and
   * whether any threshold the view declares (`monitoring.drift`) is breached.
   */
  async drift(viewName: string, options: DriftOptions): Promise<ViewDriftReport> {
    const view = this.view(viewName);
    return driftOfRuns(view, await this.statistics(viewName), options);
  }

  async #backfill(viewName: string, options: BackfillOptions): Promise<A.Table> {
    this.#open();
    const view = this.view(viewName);
    if (view.kind !== 'aggregation')
      throw new StrataError('INVALID_ARGUMENT', `view ${viewName} has no aggregations to backfill`, { key: viewName });
    const plan = this.#plan(view)!;
    const source = this.source(view.source);
    const spill = await this.#spill(view, source, options);
    if (spill) {
      try {
        const parts: PartOutput[] = [];
        const dicts: (PartDict | null)[][] = [];
        for (let p = 0; p < spill.count; p++) {
          throwIfAborted(options.signal, `backfill(${viewName})`);
          const table = await spill.read(p);
          const coded = codeEvents(view, source, table);
          const tiles = await this.#tiles(view, plan, source, table, coded, options);
          const first = firstRows(table, coded.codes, coded.keys);
          const codes = coded.keys.lookup(view.entities.map((k) => tiles.getChild(k)!));
          parts.push({ table: tiles, order: Float64Array.from(codes, (c) => first[c]) });
          dicts.push(partDicts(plan, table));
          options.onProgress?.({
            phase: `partitions ${viewName}`,
            done: p + 1,
            total: spill.count,
            unit: 'partitions',
          });
        }
        const recoded = recodeTiles(
          plan,
          parts.map((p) => p.table),
          dicts,
        );
        return mergeOrdered(parts.map((p, j) => ({ table: recoded[j], order: p.order })));
      } finally {
        await spill.close();
      }
    }
    const table = await this.#sourceTable(source, options);
    return this.#tiles(view, plan, source, table, null, options);
  }

  /** Backfill tiles of `table` (`coded`: its events, coded; null: the repo's cached index may serve). */
  async #tiles(
    view: FeatureView,
    plan: ViewPlan,
    source: Source,
    table: A.Table,
    coded: CodedEvents | null,
    options: BackfillOptions,
  ): Promise<A.Table> {
    const cached = coded ? undefined : this.#indexes.get(view.name);
    if (isSimplePlan(plan) && cached?.table !== table) {
      // straight to tiles: no full time sort needed
      coded ??= codeEvents(view, source, table);
      reportDropped(view, coded, options);
      const { vals } = groupInputs(plan, table, `source ${source.name} of view ${view.name}`);
      throwIfAborted(options.signal, `backfill(${view.name})`);
      const built = await buildTilesDirect(plan, coded, vals, this.#engine.parallelMinEvents);
      options.onProgress?.({ phase: 'tiles', done: built.tiles.m, total: built.tiles.m, unit: 'tiles' });
      return tilesTable(
        plan,
        { keys: coded.keys, table, ...built },
        options,
        entityFilter(options.shard, coded.keys.columns),
      );
    }
    const idx = coded
      ? await indexEvents(view, plan, source, table, this.#engine.parallelMinEvents, options)
      : await this.#index(view, options);
    return tilesTable(
      plan,
      { keys: idx.keys, table: idx.table, ...tilesFor(plan, idx) },
      options,
      entityFilter(options.shard, idx.keys.columns),
    );
  }

  /** Values the online store should hold as of `end` (online contract; see latest.ts). */
  async *latestValues(viewName: string, options: LatestValuesOptions): AsyncIterable<FeatureRowBatch> {
    this.#open();
    const view = this.view(viewName);
    const endMs = options.end instanceof Date ? options.end.getTime() : Number.NaN;
    if (!Number.isFinite(endMs))
      throw new StrataError('INVALID_ARGUMENT', 'latestValues needs end: a valid Date', { field: 'end' });
    const startMs = options.start ? options.start.getTime() : -Infinity;
    const plan = this.#plan(view);
    const source = this.source(view.source);
    const spill = await this.#spill(view, source, options);
    if (spill) {
      try {
        const index = (table: A.Table) =>
          indexEvents(view, plan, source, table, this.#engine.parallelMinEvents, options);
        yield* partitionedLatestBatches(
          view,
          plan,
          spill,
          index,
          { startMs, endMs },
          this.#engine.tileStrategy,
          options,
        );
      } finally {
        await spill.close();
      }
      return;
    }
    const idx = await this.#index(view, options);
    yield* latestBatches(view, plan, idx, { startMs, endMs }, this.#engine.tileStrategy, options);
  }

  /** Applies events to a push source's streaming tiles; returns the touched entities' new values per view. */
  async push(sourceName: string, events: readonly Record<string, unknown>[]): Promise<PushedViewValues[]> {
    this.#open();
    const source = this.source(sourceName);
    if (source.kind !== 'push' && source.kind !== 'stream')
      throw new StrataError('INVALID_ARGUMENT', `source ${sourceName} is a ${source.kind} source, not a push source`, {
        key: sourceName,
        hint: "declare kind: 'push' (or kind: 'stream') to push events",
      });
    if (!Array.isArray(events))
      throw new StrataError('INVALID_ARGUMENT', 'push expects an array of events', { key: sourceName });
    let state = this.#push.get(sourceName);
    if (!state) {
      state = new PushState(
        source,
        this.views.filter((v) => v.source === sourceName),
        this.#engine.pruneEveryEvents,
      );
      if (source.batchSource) {
        const history = tableToRecords(await this.#sourceTable(this.source(source.batchSource)));
        state.seed(history);
      }
      this.#push.set(sourceName, state);
    }
    return state.push(events);
  }

  /**
   * A new, empty window state for one partition of a `kind: stream` source (src/features/stream/):
   * what a stream consumer applies the partition's events to and checkpoints.
   */
  streamPartition(sourceName: string, partition: number): StreamPartition {
    this.#open();
    const source = this.source(sourceName);
    return new StreamPartition(
      source,
      this.views.filter((v) => v.source === sourceName),
      partition,
      this.#engine.pruneEveryEvents,
    );
  }

  /** The batch history of a stream source with a `batchSource` (rows as records), or [] without one. */
  async streamHistory(sourceName: string, options: LongOptions = {}): Promise<Record<string, unknown>[]> {
    const source = this.source(sourceName);
    if (!source.batchSource) return [];
    return tableToRecords(await this.#sourceTable(this.source(source.batchSource), options));
  }

  streamStats(sourceName: string): StreamStats {
    const s = this.#push.get(sourceName);
    return {
      highWaterMarkMs: s?.hwm ?? -Infinity,
      accepted: s?.log.length ?? 0,
      droppedLate: s?.dropped ?? 0,
      duplicates: s?.duplicates ?? 0,
    };
  }

  /** Forgets loaded source data and indexes (files are read again on next use). Pushed events are kept. */
  refresh(): void {
    this.#tables.clear();
    this.#indexes.clear();
    this.#pushTables.clear();
  }

  close(): Promise<void> {
    this.#closed = true;
    this.refresh();
    this.#push.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(): void {
    if (this.#closed) throw new StrataError('UNAVAILABLE', 'the feature repo is closed', { hint: 'load it again' });
  }

  #plan(view: FeatureView): ViewPlan | null {
    if (!this.#plans.has(view.name)) this.#plans.set(view.name, view.kind === 'aggregation' ? planView(view) : null);
    return this.#plans.get(view.name)!;
  }

  async #sourceTable(source: Source, options: LongOptions = {}): Promise<A.Table> {
    if (source.kind === 'push' || source.kind === 'stream') {
      const base = source.batchSource
        ? await this.#sourceTable(this.source(source.batchSource), options)
        : tableFromRecords([], { columns: Object.keys(source.columns ?? {}), dtypes: source.columns });
      const log = this.#push.get(source.name)?.log ?? [];
      const cached = this.#pushTables.get(source.name);
      if (cached && cached.log === log.length) return cached.table;
      const table = log.length
        ? concatTables(
            base,
            tableFromRecords(log, { columns: Object.keys(source.columns ?? {}), dtypes: source.columns }),
          )
        : base;
      this.#pushTables.set(source.name, { log: log.length, table });
      return table;
    }
    let p = this.#tables.get(source.name);
    if (!p) {
      p = loadSourceTable(source, {
        dir: this.dir ?? process.cwd(),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.#tables.set(source.name, p);
      p.catch(() => this.#tables.delete(source.name));
    }
    return p;
  }

  async #index(view: FeatureView, options: LongOptions): Promise<IndexedEvents> {
    const source = this.source(view.source);
    const table = await this.#sourceTable(source, options);
    const hit = this.#indexes.get(view.name);
    if (hit && hit.table === table) return hit.index;
    const index = indexEvents(view, this.#plan(view), source, table, this.#engine.parallelMinEvents, options);
    this.#indexes.set(view.name, { table, index });
    index.catch(() => this.#indexes.delete(view.name));
    return index;
  }
}
