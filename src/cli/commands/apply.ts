import type { Command } from '../command.js';
import { flag } from '../command.js';
import { onDemandRecord } from '../../features/definitions/registry.js';
import { json } from '../format.js';
import { JSON_OPTION } from '../open.js';
import { REPO_POSITIONAL, loadRepo } from '../repo.js';

export const command: Command = {
  name: 'apply',
  summary:
    'Validates the feature definitions of a repository (strata.yaml + feature files) and stores them as the next registry version in <dir>/.strata/registry. Nothing is applied when any definition is invalid (every problem is listed with its file and line). Changes that would break materialized data are refused unless --force.',
  positionals: [REPO_POSITIONAL],
  options: {
    force: { type: 'boolean', description: 'apply breaking changes anyway (then materialize again)' },
    json: { ...JSON_OPTION, description: 'print the result as JSON (version, changed, changes, views)' },
  },
  examples: ['strata apply ./feature_repo', 'strata apply --json'],
  async run(ctx) {
    const repo = await loadRepo(ctx);
    try {
      const r = await repo.apply({ force: flag(ctx, 'force') });
      const views = repo.views.map((v) => ({
        name: v.name,
        kind: v.kind,
        entities: v.entities,
        features: v.features.map((f) => `${f.name}:${f.dtype}`),
      }));
      const onDemandViews = repo.onDemandViews.map(onDemandRecord);
      if (flag(ctx, 'json')) {
        ctx.out(
          json({
            ...r,
            entities: repo.entities.map((e) => e.name),
            sources: repo.sources.map((s) => s.name),
            views,
            services: repo.services.map((s) => s.name),
            onDemandViews,
          }),
        );
        return;
      }
      ctx.out(
        r.changed
          ? `applied registry version ${r.version} (${r.path})`
          : `no changes; registry version ${r.version} is current`,
      );
      for (const c of r.changes) ctx.out(`  ${c}`);
      ctx.out(
        `${repo.entities.length} entities, ${repo.sources.length} sources, ${repo.views.length} feature views, ${onDemandViews.length} on-demand views, ${repo.services.length} services`,
      );
      for (const v of views)
        ctx.out(`  ${v.name} (${v.kind}, keys ${v.entities.join(', ')}): ${v.features.join(', ')}`);
      for (const v of onDemandViews) {
        const reads = [...v.inputs, ...Object.keys(v.requestSchema).map((k) => `request.${k}`)];
        const features = v.features.map((f) => `${f.name}:${f.dtype}${f.expr !== undefined ? ` = ${f.expr}` : ''}`);
        ctx.out(
          `  ${v.name} (on-demand${v.transform ? ', transform' : ''}, reads ${reads.join(', ') || 'nothing'}): ${features.join(', ')}`,
        );
      }
    } finally {
      await repo.close();
    }
  },
};
