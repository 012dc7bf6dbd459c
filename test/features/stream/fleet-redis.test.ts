/**
 * Acceptance, Redis Streams: `strata serve` ×2 + `strata stream` ×2 (child processes) over 8
 * partitions — fleet values equal batch materialization; kill -9 of a consumer moves its partitions;
 * a restart of every process resumes from checkpoints.
 */
import { describeFleet } from './_scenario.js';

describeFleet('redis');
