import { availableParallelism } from 'node:os';
import { StrataError } from '../../errors.js';
import { sharpSettings } from '../../media/image.js';

/** Memory layouts of an image tensor batch: channels first (PyTorch, ONNX) or last (TensorFlow). */
export const TENSOR_LAYOUTS = ['NCHW', 'NHWC'] as const;
export type TensorLayout = (typeof TENSOR_LAYOUTS)[number];
export const BATCH_DTYPES = ['uint8', 'float32'] as const;
export type BatchDType = (typeof BATCH_DTYPES)[number];
export const BATCH_FITS = ['cover', 'contain', 'fill'] as const;
export type BatchFit = (typeof BATCH_FITS)[number];

/** How an image column is turned into a tensor. */
export interface ImageDecodeSpec {
  /** Output [height, width] in pixels. */
  readonly size: readonly [number, number];
  /** cover (default): fill and centre-crop; contain: fit and pad with black; fill: stretch. */
  readonly fit?: BatchFit;
  /** 3 (RGB, default; alpha dropped, grey expanded) or 1 (luminance). */
  readonly channels?: 1 | 3;
}

export interface BatchesOptions {
  /** Columns to return. Default: every visible column of the view. */
  readonly columns?: readonly string[];
  /** Rows per batch. Default 32. */
  readonly batchSize?: number;
  /** Default false (view order). See `visitOrder` for how random the order is. */
  readonly shuffle?: boolean;
  /** Seed of the shuffle. Default 0. Same seed (and epoch) → same order. */
  readonly seed?: number;
  /** Mixed into the seed so every epoch has its own order. Default 0. */
  readonly epoch?: number;
  /** Rows in the shuffle buffer. Default max(1024, 8 × batchSize). */
  readonly shuffleBufferRows?: number;
  /** Drop the last batch when it is smaller than batchSize. Default false. */
  readonly dropLast?: boolean;
  /**
   * Image columns to decode, keyed by column name, or by htype `image` for every image column
   * (links to images included). Image columns without a spec come back as lazy ImageCells.
   */
  readonly decode?: Readonly<Record<string, ImageDecodeSpec>>;
  /** Default 'NHWC' for uint8, 'NCHW' for float32. */
  readonly layout?: TensorLayout;
  /** uint8 pixels as decoded (default), or float32 normalised: (pixel / 255 - mean) / std. */
  readonly dtype?: BatchDType;
  /** Per-channel means on the [0, 1] scale (float32 only). Default 0 for every channel. */
  readonly mean?: readonly number[];
  /** Per-channel standard deviations on the [0, 1] scale (float32 only). Default 1. */
  readonly std?: readonly number[];
  /** Batches decoded ahead of the consumer (memory bound). Default 2. */
  readonly prefetchBatches?: number;
  /**
   * Images handed to sharp at once. Default 2 × max(cores, UV_THREADPOOL_SIZE): sharp decodes on
   * libuv's pool (UV_THREADPOOL_SIZE threads, default 4 — set it to at least the core count before
   * Node starts), and keeping a few more requests queued than there are threads keeps the pool busy
   * while JavaScript copies finished images into the batch.
   */
  readonly decodeConcurrency?: number;
  /** Images read-or-decoding at once (hides storage latency; bounds the compressed bytes held). Default 16. */
  readonly readConcurrency?: number;
  /** This process's shard (0-based) of `shards` contiguous, disjoint row ranges. Default 0 of 1. */
  readonly shard?: number;
  readonly shards?: number;
  readonly signal?: AbortSignal;
}

export interface ResolvedOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly shuffleBufferRows: number;
  readonly dropLast: boolean;
  readonly layout: TensorLayout;
  readonly dtype: BatchDType;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly prefetchBatches: number;
  readonly decodeConcurrency: number;
  readonly readConcurrency: number;
  readonly shard: number;
  readonly shards: number;
}

function bad(field: string, message: string, hint?: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `batches: ${message}`, { field, hint });
}

const posInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

export function resolveOptions(o: BatchesOptions): ResolvedOptions {
  const batchSize = o.batchSize ?? 32;
  if (!posInt(batchSize)) throw bad('batchSize', `batchSize must be a positive integer, got ${String(batchSize)}`);
  const dtype = o.dtype ?? 'uint8';
  if (!BATCH_DTYPES.includes(dtype))
    throw bad('dtype', `dtype must be one of ${BATCH_DTYPES.join(', ')}, got ${dtype}`);
  const layout = o.layout ?? (dtype === 'float32' ? 'NCHW' : 'NHWC');
  if (!TENSOR_LAYOUTS.includes(layout))
    throw bad('layout', `layout must be one of ${TENSOR_LAYOUTS.join(', ')}, got ${layout}`);
  if ((o.mean || o.std) && dtype !== 'float32')
    throw bad('mean', 'mean/std need dtype float32', "pass dtype: 'float32'");
  for (const [field, v] of [
    ['mean', o.mean],
    ['std', o.std],
  ] as const) {
    if (
      v !== undefined &&
      (!Array.isArray(v) || v.some((x) => !Number.isFinite(x)) || (field === 'std' && v.some((x) => x === 0)))
    ) {
      throw bad(field, `${field} must be finite numbers${field === 'std' ? ' (non-zero)' : ''}, one per channel`);
    }
  }
  const prefetchBatches = o.prefetchBatches ?? 2;
  if (!Number.isInteger(prefetchBatches) || prefetchBatches < 0)
    throw bad('prefetchBatches', `prefetchBatches must be an integer >= 0, got ${prefetchBatches}`);
  const decodeConcurrency = o.decodeConcurrency ?? 2 * Math.max(availableParallelism(), sharpSettings().threadpoolSize);
  if (!posInt(decodeConcurrency))
    throw bad('decodeConcurrency', `decodeConcurrency must be a positive integer, got ${String(decodeConcurrency)}`);
  const readConcurrency = o.readConcurrency ?? 16;
  if (!posInt(readConcurrency))
    throw bad('readConcurrency', `readConcurrency must be a positive integer, got ${String(readConcurrency)}`);
  const shuffleBufferRows = o.shuffleBufferRows ?? Math.max(1024, 8 * batchSize);
  if (!posInt(shuffleBufferRows))
    throw bad('shuffleBufferRows', `shuffleBufferRows must be a positive integer, got ${String(shuffleBufferRows)}`);
  const seed = (o.seed ?? 0) + Math.imul(o.epoch ?? 0, 0x9e3779b1);
  if (!Number.isFinite(seed)) throw bad('seed', 'seed and epoch must be numbers');
  return {
    batchSize,
    shuffle: o.shuffle ?? false,
    seed,
    shuffleBufferRows,
    dropLast: o.dropLast ?? false,
    layout,
    dtype,
    mean: o.mean ?? [0, 0, 0],
    std: o.std ?? [1, 1, 1],
    prefetchBatches,
    decodeConcurrency,
    readConcurrency,
    shard: o.shard ?? 0,
    shards: o.shards ?? 1,
  };
}

export function checkImageSpec(
  column: string,
  spec: ImageDecodeSpec,
): { height: number; width: number; fit: BatchFit; channels: 1 | 3 } {
  const size = spec?.size;
  if (!Array.isArray(size) || size.length !== 2 || !posInt(size[0]) || !posInt(size[1])) {
    throw bad('decode', `decode.${column}.size must be [height, width] in pixels, got ${JSON.stringify(size)}`);
  }
  const fit = spec.fit ?? 'cover';
  if (!BATCH_FITS.includes(fit)) {
    throw bad(
      'decode',
      `decode.${column}.fit must be one of ${BATCH_FITS.join(', ')}, got ${fit}`,
      'batches need one size per column',
    );
  }
  const channels = spec.channels ?? 3;
  if (channels !== 1 && channels !== 3)
    throw bad('decode', `decode.${column}.channels must be 1 or 3, got ${String(channels)}`);
  return { height: size[0], width: size[1], fit, channels };
}
