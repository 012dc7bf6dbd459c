import type { Command } from '../command.js';
import { PORT_NUMBER, int, str } from '../command.js';
import { REPO_POSITIONAL, STORE_ENV_HELP, STORE_OPTIONS, loadRepo, openStore, repoDir } from '../repo.js';

export const command: Command = {
  name: 'serve',
  summary:
    "Runs the HTTP feature server for a repository, speaking Feast's wire format: POST /get-online-features, /push, /materialize, /materialize-incremental, /search; GET /health, /metrics, and the monitoring page at /monitor/ (freshness and drift charts). Binds 127.0.0.1 unless --host says otherwise; STRATA_TOKEN (or --token) requires a bearer token. Ctrl-C drains in-flight requests and stops.",
  positionals: [REPO_POSITIONAL],
  options: {
    port: {
      type: 'string',
      short: 'p',
      value: 'PORT',
      description: 'port (default 6566; 0 = any free port)',
      number: PORT_NUMBER,
    },
    host: { type: 'string', value: 'HOST', description: 'interface to bind (default 127.0.0.1)' },
    token: {
      type: 'string',
      value: 'TOKEN',
      description: 'bearer token required on every route but /health (default env STRATA_TOKEN)',
    },
    'nats-url': {
      type: 'string',
      value: 'URL',
      description: '/push to a kind: stream source on transport jetstream publishes here (default env STRATA_NATS_URL)',
    },
    ...STORE_OPTIONS,
  },
  notes: STORE_ENV_HELP,
  examples: [
    'strata serve ./feature_repo --port 6566',
    `curl -s localhost:6566/get-online-features -d '{"features":["user_stats:purchases_1d"],"entities":{"user_id":["u001"]}}' -H 'content-type: application/json'`,
  ],
  async run(ctx) {
    const port = int(ctx, 'port', 'serve', 6566, 0);
    const repo = await loadRepo(ctx);
    let store;
    try {
      store = await openStore(ctx, 'serve', repoDir(ctx), repo.project);
      const { createFeatureServer } = await import('../../serve/server.js');
      const redisUrl = str(ctx, 'redis-url') ?? (ctx.env.STRATA_REDIS_URL || ctx.env.REDIS_URL || undefined);
      const natsUrl = str(ctx, 'nats-url') ?? (ctx.env.STRATA_NATS_URL || undefined);
      const server = await createFeatureServer(repo, store, {
        port,
        ...(str(ctx, 'host') ? { host: str(ctx, 'host') } : {}),
        ...(str(ctx, 'token') !== undefined ? { token: str(ctx, 'token') } : {}),
        streams: {
          ...(redisUrl ? { redisUrl } : {}),
          ...(natsUrl ? { natsUrl } : {}),
        },
      });
      const log = server.featureLog;
      const logging = log ? `; logging ${+(log.sampleRate * 100).toFixed(3)}% of requests to ${log.uri}` : '';
      ctx.out(
        `feature server: ${server.url}  (${repo.views.length} views, ${store.kind} store${logging}; Ctrl-C to stop)`,
      );
      ctx.out(`monitoring page: ${server.url}/monitor/`);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await server.close();
      ctx.err('feature server stopped');
    } finally {
      await store?.close();
      await repo.close();
    }
  },
};
