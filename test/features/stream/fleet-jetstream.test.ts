/**
 * Acceptance, NATS JetStream: the same scenario as fleet-redis.test.ts with the events on JetStream
 * (leases, checkpoints and the online store in Redis).
 */
import { describeFleet } from './_scenario.js';

describeFleet('jetstream');
