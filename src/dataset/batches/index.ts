export { batches, type Batch } from './batches.js';
export {
  BATCH_DTYPES,
  BATCH_FITS,
  TENSOR_LAYOUTS,
  type BatchDType,
  type BatchFit,
  type BatchesOptions,
  type ImageDecodeSpec,
  type TensorLayout,
} from './options.js';
export { prng, shardRange, visitOrder } from './order.js';
