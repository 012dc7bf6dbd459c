import type { OpenStorageOptions } from '../storage/open.js';
import type { Shard } from '../shard.js';
import type { ModelSource } from './job-model.js';
import type { EmbedFailure, EmbeddingLineage, OnLineageMismatch, Pooling } from './lineage.js';
import type { PreprocessOptions } from './preprocess.js';
import type { Progress } from '../progress.js';
import type { JobFrames } from './video.js';
import type { TextPooling, Tokenizer } from './text-model.js';

export interface EmbedOptions {
  /** Image, video or link column to embed; or a text column (then pass `tokenizer`). */
  readonly column: string;
  /** Local .onnx path, storage URI (`s3://...`, read through the storage layer), bytes, or an InferenceSession (then pass modelSha256). */
  readonly model: ModelSource;
  /** Output column. Default 'embedding'. */
  readonly output?: string;
  /** Defaults: see resolvePreprocess; `size` defaults to the model's fixed input H×W. Checked against the model input. */
  readonly preprocess?: PreprocessOptions;
  /** Images (or frames) per model run. Default 4 for images/videos (see DEFAULT_IMAGE_BATCH), 32 for text (or the model's fixed batch). */
  readonly batchSize?: number;
  /**
   * Default: the model's only input. An image model must have exactly one required input (more are
   * refused when the job starts, INVALID_ARGUMENT listing them); text models take token tensors.
   */
  readonly inputName?: string;
  /** Default: the model's only output. */
  readonly outputName?: string;
  /**
   * Videos: how frame vectors become the stored value. 'mean' (default) or 'max' store one
   * `embedding` vector per video; 'none' stores every frame: the output column is generic float32
   * [frames, dim] and `<output>_timestamps` holds the frame times in seconds (float64 [frames]).
   */
  readonly pooling?: Pooling;
  /**
   * Text columns: turns one text into token ids (or into `{ [modelInputName]: ids }`); the model's
   * inputs must be int64/int32 token tensors [batch, tokens]. An attention mask and token type ids
   * are derived from plain ids.
   */
  readonly tokenizer?: Tokenizer;
  /**
   * Text columns: names the tokenizer in the lineage (e.g. 'bert-base-uncased'); another name is
   * another column. Default: a hash of the tokenizer function's source.
   */
  readonly tokenizerName?: string;
  /** Text columns: longer token sequences are cut. Default: the model's fixed length, else 512. */
  readonly maxTokens?: number;
  /** Text columns: the id that pads shorter sequences of a batch. Default 0. */
  readonly padTokenId?: number;
  /** Text columns with per-token outputs [N, S, D]: 'mean' over real tokens (default) or 'first' ([CLS]). */
  readonly tokenPooling?: TextPooling;
  /** L2-normalize each vector (frame vectors before and after pooling). Default false. */
  readonly normalize?: boolean;
  /** Videos: frames to decode (only those are decoded). Default { count: 8 }. */
  readonly frames?: JobFrames;
  /** Fail the job on the first sample that does not decode (default false: record it, store null). */
  readonly strict?: boolean;
  /**
   * Record statistics of the vectors written (norms, mean vector, random projections; see
   * `embeddingStatistics`) in the output column's metadata, committed with the rows. Default true.
   */
  readonly statistics?: boolean;
  /**
   * Commit every N batches (the unit of resumption) instead of by time (commitIntervalMs). Default:
   * by time.
   */
  readonly commitEveryBatches?: number;
  /**
   * Commit once this long has passed since the last commit: the most work a killed job loses.
   * Default 10 000 (a commit costs tens of ms whatever the batch size, so a time bound keeps its share
   * small for fast and slow models alike); 0 commits after every batch. Ignored with commitEveryBatches.
   */
  readonly commitIntervalMs?: number;
  /** ONNX Runtime intra-op threads per session. Default: cores / inferenceWorkers (at least 1). */
  readonly intraOpThreads?: number;
  /**
   * Model sessions in worker threads, each running its own batch (default min(2, cores)). Separate
   * sessions keep the cores busy while decoders run beside them; each holds a copy of the model.
   */
  readonly inferenceWorkers?: number;
  /**
   * How long the inference workers (threads and their ONNX Runtime sessions) stay up after the job,
   * for the next embed job in this process with the same model and settings (the next shard, the
   * next queued task), which then starts inferring at once. Default 10 000; 0 closes them with the
   * job. Idle workers never keep the process alive; `closeInferenceCache()` closes them now.
   */
  readonly sessionIdleMs?: number;
  /** Samples decoded at the same time. Default: max(2, cores). */
  readonly decodeConcurrency?: number;
  /**
   * Run the model in a worker thread (default true; sessions and fixed-batch models always run on
   * this thread). onnxruntime-node's run() blocks its JS thread, so on the main thread it would stall
   * reads and decodes for the length of every batch.
   */
  readonly inferenceWorker?: boolean;
  /** Let ONNX Runtime's idle threads spin-wait in the inference worker. Default false: spinning takes
   * CPU from the decoders running at the same time. */
  readonly ortSpinning?: boolean;
  /** Decodes started while the model runs (they share the cores with it). Default decodeConcurrency. */
  readonly decodeWhileInferring?: number;
  /** Prepared samples held ahead of inference. Default 3 × batchSize. */
  readonly queueSamples?: number;
  /** sha256 of the model file (required for an InferenceSession; checked against files). */
  readonly modelSha256?: string;
  /** Storage options for a model URI (S3 endpoint and credentials, ...). */
  readonly storageOptions?: OpenStorageOptions;
  /**
   * The output column exists with another lineage (model sha256, input/output, preprocess,
   * normalize, frames or pooling differ): 'error' (default) throws CONFLICT; 'new-column' writes
   * to `<output>_2` (`_3`, ...), reusing the first one whose lineage matches.
   */
  readonly onLineageMismatch?: OnLineageMismatch;
  /**
   * Do one shard of the job: the fragments whose id mod `count` is `index` (see resolveShard for the
   * Kubernetes / AWS Batch environment). Each shard fills only its fragments' rows, so shards running
   * at the same time (and appends beside them) commit without conflicts; rows appended after a shard
   * started are left for the next run. A killed shard re-run computes only its rows still missing.
   * The first shard records the lineage; a shard with another model or preprocess stops with CONFLICT.
   * Image, video and link columns. Default: the whole job.
   */
  readonly shard?: Shard;
  /**
   * Two-phase commit (see docs/SCALING.md): the shard writes its vectors but publishes no version;
   * it stages them under this job id in the dataset (`ds.stage`), and `ds.commitJob(jobId)` (CLI
   * `strata job commit <uri> <jobId>`) publishes every shard as one version. A shard whose entry is
   * staged already does nothing (`staged: 'exists'`); a killed one is re-run from its start.
   * Without `shard`, the run is shard 0 of 1. Default: each shard commits as it goes.
   */
  readonly jobId?: string;
  /**
   * ONNX Runtime execution providers in order of preference, e.g. ['cuda', 'cpu']. A provider that
   * cannot load on this machine is dropped with a warning (STRATA_EP_UNAVAILABLE) while others remain;
   * a list whose only provider cannot load fails with UNAVAILABLE. Default: CPU.
   */
  readonly executionProviders?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Receives warnings (rows left null, see EmbedSummary.unembedded). Default process.emitWarning. */
  readonly onWarning?: (message: string, code: string) => void;
}

export interface EmbedSummary {
  /** The column written (differs from `output` with onLineageMismatch 'new-column'). */
  readonly column: string;
  /** Dataset version after the job (unchanged for a no-op). */
  readonly version: number;
  /** True when every row already had a vector from the same lineage: nothing was computed. */
  readonly noop: boolean;
  /** Rows already present before this run (resumed or no-op). */
  readonly resumedFrom: number;
  /** Samples processed in this run (embedded + failed + empty). */
  readonly processed: number;
  readonly embedded: number;
  /** Null source cells (stored as null, not failures). */
  readonly empty: number;
  /** Samples that failed to decode in this run (stored as null). */
  readonly failures: readonly EmbedFailure[];
  readonly dim: number;
  /**
   * Rows of the output column this job never wrote (past `lineage.rowsWritten`): rows appended to
   * the dataset with a value for this column (`append({ ..., embedding: null })`), which pads it with
   * null up to that row and for the rest of that commit; or rows an earlier Strata null-padded on
   * append (it did not yet leave derived columns short). A job only appends, so they stay as they are (a warning
   * says so); embed into a new column to cover them. Rows appended without a value for this column
   * are not counted: the column is left short there and the next run embeds them. Zero normally.
   */
  readonly unembedded: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /**
   * Where the wall time went: `setup` (model load and checks; the inference worker starts in the
   * background), `infer` (the model busy), `starved` (the model idle waiting for decoded samples,
   * including the first batch), `write` (appending and committing, overlapped with the model).
   */
  readonly stageSeconds: {
    readonly setup: number;
    readonly infer: number;
    readonly starved: number;
    readonly write: number;
  };
  readonly lineage: EmbeddingLineage;
  /** The shard this run did (absent for a whole job). */
  readonly shard?: Shard;
  /** With `jobId`: 'staged' (this run staged the shard) or 'exists' (it was staged before; nothing done). */
  readonly staged?: 'staged' | 'exists';
  /** The execution providers the model ran with (absent for an InferenceSession passed in). */
  readonly executionProviders?: readonly string[];
}
