/**
 * Parts of the embedding benchmark (issue 5) that need no dataset: model inference on ready tensors
 * and vector search. bench/embed.ts imports these; run directly to print them:
 *   npx tsx bench/embed-parts.ts [--quick]
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildMobileNetV2Like } from '../datasets/models/onnx-builder.js';
import { EmbeddingModel } from '../src/embed/model.js';
import { resizeForModel, resolvePreprocess, toTensor } from '../src/embed/preprocess.js';
import { searchExact, vectorNorms } from '../src/dataset/search/exact.js';
import { HnswIndex, type HnswOptions } from '../src/dataset/search/hnsw.js';

export interface InferResult {
  /** Per batch size: best wall time per image over the repeats. */
  readonly perBatch: readonly { readonly batch: number; readonly msPerImage: number }[];
  readonly bestBatch: number;
  /** t_infer: best per-image time over all batch sizes. */
  readonly msPerImage: number;
  readonly intraOpThreads: number;
}

/** Deterministic pseudo-random floats in [-2, 2) (normalized-image range). */
function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) a[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 4 - 2;
  return a;
}

/**
 * Model alone on ready tensors: for each batch size, one warm-up then `repeats` timed runs; reports
 * the best per-image time. `model`: an EmbeddingModel, a path or bytes (loaded with intra-op
 * threads = cores), or omitted for the MobileNetV2-like model at 224×224 (seed 1, dim 512).
 */
export async function measureInfer(
  options: {
    readonly model?: EmbeddingModel | string | Uint8Array;
    readonly batchSizes?: readonly number[];
    readonly repeats?: number;
    readonly intraOpThreads?: number;
    /** ONNX Runtime spin-waiting of idle intra-op threads (when loading from path/bytes). Default ORT's (on). */
    readonly spinning?: boolean;
  } = {},
): Promise<InferResult> {
  const threads = options.intraOpThreads ?? availableParallelism();
  const owned = !(options.model instanceof EmbeddingModel);
  const model =
    options.model instanceof EmbeddingModel
      ? options.model
      : await EmbeddingModel.load(options.model ?? buildMobileNetV2Like({ seed: 1 }).bytes, {
          intraOpThreads: threads,
          spinning: options.spinning,
        });
  try {
    const item = model.inputShape.dims.slice(1);
    if (item.some((d) => d < 1))
      throw new Error(`measureInfer needs a model with fixed item dims, got [${model.inputShape.dims.join(',')}]`);
    const per = item.reduce((a, b) => a * b, 1);
    const perBatch: { batch: number; msPerImage: number }[] = [];
    for (const batch of options.batchSizes ?? [1, 4, 8, 16, 32, 64]) {
      const x = fill(batch * per, batch);
      await model.run(x, batch);
      let best = Infinity;
      for (let r = 0; r < (options.repeats ?? 5); r++) {
        const t0 = performance.now();
        await model.run(x, batch);
        best = Math.min(best, (performance.now() - t0) / batch);
      }
      perBatch.push({ batch, msPerImage: best });
    }
    const top = perBatch.reduce((a, b) => (b.msPerImage < a.msPerImage ? b : a));
    return { perBatch, bestBatch: top.batch, msPerImage: top.msPerImage, intraOpThreads: threads };
  } finally {
    if (owned) await model.close();
  }
}

const HAND_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let s;
parentPort.on('message', async (m) => {
  if (m.bytes) {
    s = await ort.InferenceSession.create(m.bytes, { intraOpNumThreads: workerData.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    parentPort.postMessage({});
    return;
  }
  if (m.loop) {
    // the same ready tensor, run back to back for loop.ms: images done
    const x = new Float32Array(m.loop.batch * 3 * 224 * 224);
    for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 250 - 2;
    const t = new ort.Tensor('float32', x, [m.loop.batch, 3, 224, 224]);
    const end = performance.now() + m.loop.ms;
    let n = 0;
    while (performance.now() < end) {
      await s.run({ [s.inputNames[0]]: t });
      n += m.loop.batch;
    }
    parentPort.postMessage({ n });
    return;
  }
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', m.data, m.dims) });
  parentPort.postMessage({ data: m.data, n: out[s.outputNames[0]].data.length }, [m.data.buffer]);
});`;

/** `n` worker threads, each with a loaded session of the model (HAND_WORKER), `threads` intra-op threads each. */
async function startSessions(n: number, modelBytes: Uint8Array, threads = 1): Promise<Worker[]> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  return Promise.all(
    Array.from({ length: n }, async () => {
      const w = new Worker(HAND_WORKER, { eval: true, workerData: { ortPath, threads } });
      w.postMessage({ bytes: modelBytes });
      await new Promise((r) => w.once('message', r));
      return w;
    }),
  );
}

/**
 * A reference for the embedding job: the least a pipeline can do here, written by hand. JPEG bytes
 * already in memory, `decodeConcurrency` sharp decode/resizes at a time (224×224, cover), batches of
 * `batchSize` packed on this thread and run by two worker sessions (1 intra-op thread each, loaded
 * before timing, input buffers handed back and forth). No dataset, no storage reads, no output, no
 * commits, no checks. Best images/s over `passes`.
 */
export async function measureHandPipeline(
  images: readonly Uint8Array[],
  modelBytes: Uint8Array,
  options: { readonly batchSize?: number; readonly decodeConcurrency?: number; readonly passes?: number } = {},
): Promise<number> {
  const batch = options.batchSize ?? 8;
  const concurrency = options.decodeConcurrency ?? 2;
  const pre = resolvePreprocess({ size: 224 });
  const workers = await startSessions(2, modelBytes);
  const onePass = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const ready: Uint8Array[] = [];
      const free = [...workers];
      const buffers: Float32Array[] = [];
      let next = 0;
      let decoding = 0;
      let done = 0;
      const pump = (): void => {
        while (decoding < concurrency && next < images.length && ready.length < 4 * batch) {
          decoding++;
          resizeForModel(images[next++], pre).then((px) => {
            decoding--;
            ready.push(px);
            pump();
          }, reject);
        }
        while (
          free.length > 0 &&
          (ready.length >= batch || (next === images.length && decoding === 0 && ready.length > 0))
        ) {
          const items = ready.splice(0, batch);
          const w = free.pop()!;
          const data = toTensor(items, pre, buffers.pop() ?? new Float32Array(batch * 3 * 224 * 224)).subarray(
            0,
            items.length * 3 * 224 * 224,
          );
          w.once('message', (m: { data: Float32Array }) => {
            buffers.push(new Float32Array(m.data.buffer));
            free.push(w);
            done += items.length;
            if (done === images.length) resolve(images.length / ((performance.now() - t0) / 1000));
            else pump();
          });
          w.postMessage({ data, dims: [items.length, 3, 224, 224] }, [data.buffer as ArrayBuffer]);
        }
      };
      pump();
    });
  try {
    let best = 0;
    for (let pass = 0; pass < (options.passes ?? 1); pass++) best = Math.max(best, await onePass());
    return best;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The model alone on ready tensors as the embedding job runs it: `sessions` worker sessions of one
 * intra-op thread each (loaded before timing), each running its own batches back to back. For each
 * batch size, one warm-up then `repeats` timed rounds of `imagesPerRound` images per session; best
 * wall time per image over all sessions' images. A stricter t_infer than measureInfer's one
 * session on all cores when the model is cache-bound (a bound, so the best way to run it counts).
 */
export async function measureInferSessions(
  modelBytes: Uint8Array,
  options: {
    readonly sessions?: number;
    readonly batchSizes?: readonly number[];
    readonly repeats?: number;
    readonly imagesPerRound?: number;
  } = {},
): Promise<{
  perBatch: { batch: number; msPerImage: number }[];
  bestBatch: number;
  msPerImage: number;
  sessions: number;
}> {
  const sessions = options.sessions ?? availableParallelism();
  const workers = await startSessions(sessions, modelBytes);
  const runOn = (w: Worker, data: Float32Array, dims: number[]) =>
    new Promise<Float32Array>((resolve) => {
      w.once('message', (m: { data: Float32Array }) => resolve(m.data));
      w.postMessage({ data, dims }, [data.buffer as ArrayBuffer]);
    });
  try {
    const perBatch: { batch: number; msPerImage: number }[] = [];
    for (const batch of options.batchSizes ?? [1, 2, 4, 8, 16]) {
      const dims = [batch, 3, 224, 224];
      const runs = Math.max(1, Math.round((options.imagesPerRound ?? 32) / batch));
      const inputs = workers.map((_, k) => fill(batch * 3 * 224 * 224, batch + k));
      const round = () =>
        Promise.all(
          workers.map(async (w, k) => {
            for (let r = 0; r < runs; r++) inputs[k] = await runOn(w, inputs[k], dims);
          }),
        );
      await Promise.all(workers.map(async (w, k) => (inputs[k] = await runOn(w, inputs[k], dims))));
      let best = Infinity;
      for (let r = 0; r < (options.repeats ?? 3); r++) {
        const t0 = performance.now();
        await round();
        best = Math.min(best, (performance.now() - t0) / (runs * batch * sessions));
      }
      perBatch.push({ batch, msPerImage: best });
    }
    const top = perBatch.reduce((a, b) => (b.msPerImage < a.msPerImage ? b : a));
    return { perBatch, bestBatch: top.batch, msPerImage: top.msPerImage, sessions };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Decoding and inference side by side, free-running, against each alone, in windows of equal length
 * taken in turn (`iterations` × [decode alone, inference alone, both together], `windowMs` each), so
 * the machine's drift over seconds does not enter the comparison. Alone: decoding at its best of
 * 2 and 4 at a time (sharp, JPEGs in memory, on this thread) and the model at its best of one
 * session on all cores (batch 2 and 4) and two single-thread worker sessions (batch `batchSize`), on
 * a ready tensor. Together: decoding `decodeConcurrency` at a time and the two single-thread
 * sessions, as the job runs them. Nothing is packed, transferred, read or written. An iteration's
 * capacity is decoded/decodedAlone + inferred/inferredAlone: the share of the bound's capacity the
 * two stages keep when they share the cores, what a pipeline with no work of its own could reach.
 * Returns the median over iterations (and each).
 */
export async function measureCoRun(
  images: readonly Uint8Array[],
  modelBytes: Uint8Array,
  options: {
    readonly batchSize?: number;
    readonly decodeConcurrency?: number;
    readonly windowMs?: number;
    readonly iterations?: number;
  } = {},
): Promise<{ capacity: number; capacities: number[]; decodedPerMs: number; inferredPerMs: number }> {
  const batch = options.batchSize ?? 4;
  const windowMs = options.windowMs ?? 1000;
  const pre = resolvePreprocess({ size: 224 });
  const single = await startSessions(2, modelBytes);
  const wide = await startSessions(1, modelBytes, availableParallelism());
  const infer = (workers: Worker[], b: number, ms: number) =>
    Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            w.once('message', (m: { n: number }) => resolve(m.n));
            w.postMessage({ loop: { batch: b, ms } });
          }),
      ),
    ).then((done) => done.reduce((a, c) => a + c, 0) / ms);
  const decode = async (concurrency: number, ms: number) => {
    const end = performance.now() + ms;
    let next = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          await resizeForModel(images[next++ % images.length], pre);
          done++;
        }
      }),
    );
    return done / ms;
  };
  const median = (a: readonly number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  try {
    await Promise.all([decode(2, 300), infer(single, batch, 300)]); // warm-up
    await infer(wide, 2, 300);
    const capacities: number[] = [];
    const decoded: number[] = [];
    const inferred: number[] = [];
    for (let i = 0; i < (options.iterations ?? 3); i++) {
      const decodeAlone = Math.max(await decode(2, windowMs), await decode(4, windowMs));
      const inferAlone = Math.max(
        await infer(wide, 2, windowMs),
        await infer(wide, 4, windowMs),
        await infer(single, batch, windowMs),
      );
      const [d, n] = await Promise.all([
        decode(options.decodeConcurrency ?? 2, windowMs),
        infer(single, batch, windowMs),
      ]);
      capacities.push(d / decodeAlone + n / inferAlone);
      decoded.push(d);
      inferred.push(n);
    }
    return { capacity: median(capacities), capacities, decodedPerMs: median(decoded), inferredPerMs: median(inferred) };
  } finally {
    await Promise.all([...single, ...wide].map((w) => w.terminate()));
  }
}

export interface SearchResult {
  /** Exact top-10 over 100k × 512-d (searchExact, cosine, row norms stored), mean ms per query. */
  readonly search_exact_ms_100k: number;
  /** Same without stored norms (computed during the scan). */
  readonly search_exact_nonorms_ms_100k: number;
  /** HNSW top-10 over 100k × annDim, mean ms per query. */
  readonly search_ann_ms_100k: number;
  /** HNSW recall@10 against exact on the same vectors and queries. */
  readonly ann_recall_at_10: number;
  readonly ann_build_s: number;
  /** CPU seconds of this process (all threads) during the build. */
  readonly ann_build_cpu_s: number;
  readonly ann_build_threads: number;
  readonly ann_dim: number;
  readonly ann_options: Required<HnswOptions>;
  readonly ann_index_bytes: number;
}

function uniform(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) a[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  return a;
}

/**
 * Exact search over n × dim (default 100k × 512, uniform random, cosine) and HNSW over n × annDim
 * (default 100k × 128, l2, the same data family as the recall acceptance test).
 */
export async function measureSearch(
  options: {
    readonly n?: number;
    readonly dim?: number;
    readonly annDim?: number;
    readonly queries?: number;
    readonly hnsw?: HnswOptions;
    /** HNSW build threads. Default os.availableParallelism(). */
    readonly threads?: number;
    /** Extra efSearch values to report (logged only). */
    readonly efSweep?: readonly number[];
    readonly log?: (line: string) => void;
  } = {},
): Promise<SearchResult> {
  const n = options.n ?? 100_000;
  const dim = options.dim ?? 512;
  const annDim = options.annDim ?? 128;
  const nq = options.queries ?? 50;
  const log = options.log ?? (() => {});

  const v = uniform(n * dim, 1);
  const q = uniform(nq * dim, 2);
  const reps = Math.min(nq, 10);
  const norms = vectorNorms(v, dim); // a dataset column keeps these alongside the vectors
  searchExact(v, dim, q.subarray(0, dim), { k: 10, metric: 'cosine', norms }); // warm-up
  let t0 = performance.now();
  for (let i = 0; i < reps; i++)
    searchExact(v, dim, q.subarray(i * dim, (i + 1) * dim), { k: 10, metric: 'cosine', norms });
  const exactMs = (performance.now() - t0) / reps;
  t0 = performance.now();
  for (let i = 0; i < reps; i++) searchExact(v, dim, q.subarray(i * dim, (i + 1) * dim), { k: 10, metric: 'cosine' });
  const exactNoNormsMs = (performance.now() - t0) / reps;
  log(
    `exact ${n} × ${dim} (k=10, cosine): ${exactMs.toFixed(1)} ms/query with stored norms, ${exactNoNormsMs.toFixed(1)} ms/query computing them`,
  );

  // same parameters as the recall acceptance test (test/embed/hnsw-recall.test.ts), all cores
  const threads = options.threads ?? availableParallelism();
  const hnswOptions: HnswOptions = { metric: 'l2', M: 32, efConstruction: 100, efSearch: 800, ...options.hnsw };
  const av = annDim === dim ? v : uniform(n * annDim, 3);
  const aq = annDim === dim ? q : uniform(nq * annDim, 4);
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const hnsw = await HnswIndex.build(av, annDim, { ...hnswOptions, threads });
  const buildS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const buildCpuS = (cpu.user + cpu.system) / 1e6;
  log(
    `hnsw build ${n} × ${annDim} (M ${hnsw.options.M}, efConstruction ${hnsw.options.efConstruction}, ${threads} threads): ${buildS.toFixed(1)} s wall, ${buildCpuS.toFixed(1)} s CPU`,
  );
  const truth = Array.from(
    { length: nq },
    (_, i) =>
      new Set(
        searchExact(av, annDim, aq.subarray(i * annDim, (i + 1) * annDim), { k: 10, metric: hnsw.metric }).map(
          (h) => h.row,
        ),
      ),
  );
  let hits = 0;
  t0 = performance.now();
  const results = Array.from({ length: nq }, (_, i) =>
    hnsw.search(aq.subarray(i * annDim, (i + 1) * annDim), { k: 10 }),
  );
  const annMs = (performance.now() - t0) / nq;
  results.forEach((r, i) => {
    hits += r.filter((h) => truth[i].has(h.row)).length;
  });
  const recall = hits / (nq * 10);
  log(`hnsw search (efSearch ${hnsw.options.efSearch}): ${annMs.toFixed(2)} ms/query, recall@10 ${recall.toFixed(4)}`);
  for (const ef of options.efSweep ?? []) {
    let h = 0;
    const t1 = performance.now();
    for (let i = 0; i < nq; i++) {
      h += hnsw
        .search(aq.subarray(i * annDim, (i + 1) * annDim), { k: 10, efSearch: ef })
        .filter((x) => truth[i].has(x.row)).length;
    }
    log(
      `  efSearch ${String(ef).padStart(4)}: ${((performance.now() - t1) / nq).toFixed(2)} ms/query, recall@10 ${(h / (nq * 10)).toFixed(4)}`,
    );
  }
  return {
    search_exact_ms_100k: exactMs,
    search_exact_nonorms_ms_100k: exactNoNormsMs,
    search_ann_ms_100k: annMs,
    ann_recall_at_10: recall,
    ann_build_s: buildS,
    ann_build_cpu_s: buildCpuS,
    ann_build_threads: threads,
    ann_dim: annDim,
    ann_options: hnsw.options,
    ann_index_bytes: hnsw.serialize({ includeVectors: false }).length,
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const infer = await measureInfer({ batchSizes: quick ? [1, 8] : undefined, repeats: quick ? 2 : 5 });
  console.log(`MobileNetV2-like 224×224 → 512, intra-op threads ${infer.intraOpThreads}`);
  console.log('batch  ms/img');
  for (const r of infer.perBatch) console.log(`${String(r.batch).padStart(5)}  ${r.msPerImage.toFixed(2)}`);
  const search = await measureSearch({
    n: quick ? 20_000 : 100_000,
    efSweep: [100, 200, 400],
    log: (l) => console.log(l),
  });
  console.log(
    JSON.stringify({
      t_infer_ms: infer.msPerImage,
      infer_best_batch: infer.bestBatch,
      ...search,
      ann_options: undefined,
      ann_M: search.ann_options.M,
      ann_ef_construction: search.ann_options.efConstruction,
      ann_ef_search: search.ann_options.efSearch,
    }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
