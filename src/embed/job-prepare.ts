import type { Dataset } from '../dataset/dataset.js';
import type { Shard } from '../shard.js';
import type { EmbedOptions } from './job-options.js';
import { addOutputColumns, planOutput, type OutputPlan } from './job-output.js';
import { tryCommit, untilCommitted } from './job-shard.js';
import type { EmbeddingLineage, LineageIdentity } from './lineage.js';
import { stagedNewColumns, stagedShardProgress } from '../dataset/derived/for-jobs.js';

/**
 * The output plan of a run; for a shard, first makes sure the column exists with this job's lineage
 * marked `sharded`, in a commit of its own. That commit races with the other shards' (each adds the
 * same column, or marks the same lineage): the loser re-reads the winner's lineage and adopts it when
 * it matches (same model, preprocess, ...) or stops with CONFLICT naming both models, so shards of
 * different models never write into one column.
 */
export async function prepareOutput(
  ds: Dataset,
  identity: LineageIdentity,
  options: EmbedOptions,
  model: { readonly uri: string; readonly inputDims: readonly number[]; readonly dim: number },
  shard: Shard | undefined,
): Promise<OutputPlan> {
  if (!shard) return planOutput(ds, identity, options, model);
  if (options.jobId !== undefined) {
    // a staged job records nothing now: the column (or the `sharded` mark) is staged with the
    // shard's outputs and published by commitJob; the lineage is checked against the published
    // column and against what sibling shards of the job staged
    const jobId = options.jobId;
    const staged = await stagedNewColumns(ds, jobId, options.signal);
    const progress = (column: string) => stagedShardProgress(ds, jobId, shard, column, options.signal);
    const plan = await planOutput(ds, identity, options, model, shard, staged, progress);
    if (plan.existing) return plan;
    const sibling = staged.get(plan.column)?.lineage as EmbeddingLineage | undefined;
    // the shards of a job that add the column record the same lineage (dated by the version they start from)
    const at = new Date(ds.versionInfo.timestampMs).toISOString();
    return { ...plan, lineage: sibling ?? { ...plan.lineage, sharded: true, createdAt: at, updatedAt: at } };
  }
  return untilCommitted(ds, async () => {
    const plan = await planOutput(ds, identity, options, model, shard);
    if (plan.existing && plan.lineage.sharded) return plan;
    const lineage = { ...plan.lineage, sharded: true };
    if (plan.existing) ds.setColumnMeta(plan.column, { lineage });
    else addOutputColumns(ds, plan, model.dim, lineage);
    const message = `embed ${identity.sourceColumn} → ${plan.column}: lineage for sharded runs`;
    return (await tryCommit(ds, message)) ? planOutput(ds, identity, options, model, shard) : undefined;
  });
}
