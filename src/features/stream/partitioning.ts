/**
 * Routing of stream events to partitions: a stable 32-bit hash (the one count_distinct uses, FNV-1a /
 * float bits + finalizer, identical in every process and release) of the canonical key value, modulo
 * the partition count. `'7'` and `7` on an int64 key are one entity once coerced by the schema, so
 * callers hash the coerced value.
 */
import { canonical } from '../engine/columns.js';
import { hashValue } from '../../stats/index.js';

export function partitionOf(key: unknown, partitions: number): number {
  return (hashValue(canonical(key)) >>> 0) % partitions;
}
