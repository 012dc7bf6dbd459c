/** Opens the configured online store: embedded SQLite by default, Redis when asked. */
import { StrataError } from '../errors.js';
import { RedisOnlineStore, type RedisOnlineStoreOptions } from './redis.js';
import { defaultOnlineStorePath, SqliteOnlineStore, type SqliteOnlineStoreOptions } from './sqlite.js';
import type { OnlineStore } from './store.js';

export const ONLINE_STORE_TYPES = ['sqlite', 'redis'] as const;
export type OnlineStoreType = (typeof ONLINE_STORE_TYPES)[number];

export type OnlineStoreConfig =
  | ({
      readonly type: 'sqlite';
      /** Default `<repoDir>/.strata/online.sqlite`. */ readonly path?: string;
    } & SqliteOnlineStoreOptions)
  | ({ readonly type: 'redis' } & RedisOnlineStoreOptions);

/**
 * Opens the online store of the feature repo in `repoDir`. Default: `{ type: 'sqlite' }`
 * (a file inside the repo, no server).
 */
export async function openOnlineStore(
  repoDir: string,
  config: OnlineStoreConfig = { type: 'sqlite' },
): Promise<OnlineStore> {
  switch (config.type) {
    case 'sqlite':
      return SqliteOnlineStore.open(config.path ?? defaultOnlineStorePath(repoDir), config);
    case 'redis':
      return RedisOnlineStore.open(config);
    default:
      throw new StrataError(
        'INVALID_ARGUMENT',
        `unknown online store type ${String((config as { type?: unknown }).type)}`,
        {
          field: 'type',
          hint: `use one of ${ONLINE_STORE_TYPES.join(', ')}`,
        },
      );
  }
}
