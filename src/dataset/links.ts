import { StrataError } from '../errors.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/storage.js';

/** Options for opening linked files (S3 credentials etc.), set once per process by `configureLinks`. */
let linkOptions: Parameters<typeof openStorage>[1] = {};
const stores = new Map<string, Promise<Storage>>();

export function configureLinks(options: Parameters<typeof openStorage>[1]): void {
  linkOptions = options;
  stores.clear();
}

/** A linked file as (storage of its folder, key of the file); folders' storages are shared. */
export async function resolveLink(url: string): Promise<{ storage: Storage; key: string }> {
  const cut = url.lastIndexOf('/');
  if (cut <= 0 || cut === url.length - 1) {
    throw new StrataError('INVALID_ARGUMENT', `link ${url} does not name a file`, {
      file: url,
      hint: 'use an absolute path or a file://, s3:// or https:// URL',
    });
  }
  const dir = url.slice(0, cut) || '/';
  const key = decodeURIComponent(url.slice(cut + 1));
  let p = stores.get(dir);
  if (!p) {
    p = Promise.resolve(openStorage(dir, linkOptions));
    stores.set(dir, p);
  }
  return { storage: await p, key };
}
