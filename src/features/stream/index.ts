/**
 * Stream sources (`kind: stream`): the transport contract and its Redis Streams / NATS JetStream
 * adapters, partitioning by key hash, a partition's checkpointable window state, and the Redis
 * leases that give each partition one owner. The consumer loop is `StreamConsumer` (src/online).
 */
export {
  openStreamSource,
  type StreamSource,
  type StreamSourceOptions,
  type StreamRecord,
  type StreamPublish,
  type PartitionReader,
} from './contract.js';
export { partitionOf } from './partitioning.js';
export { StreamPartition, type PartitionCheckpoint } from './partition.js';
export { StreamCoordinator, type CoordinatorOptions, type CheckpointDelta } from './coordinator.js';
