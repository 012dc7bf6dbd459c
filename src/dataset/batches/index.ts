export { batches, type Batch } from './batches.js';
export {
  BATCH_DTYPES,
  BATCH_FITS,
  LAYOUTS,
  type BatchDType,
  type BatchFit,
  type BatchesOptions,
  type ImageDecodeSpec,
  type Layout,
} from './options.js';
export { prng, shardRange, visitOrder } from './order.js';
