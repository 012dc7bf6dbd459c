import { StrataError } from '../errors.js';
import { type OpenStorageOptions, openStorage } from '../storage/open.js';
import type { Storage } from '../storage/storage.js';

/**
 * Opens linked files (htype `link`: local paths, file://, s3://, http(s):// URLs) with one set of
 * storage options (S3 credentials, endpoint, ...). Each dataset has its own; storages of a folder
 * are shared between the links in it.
 */
export class LinkResolver {
  private readonly stores = new Map<string, Promise<Storage>>();

  constructor(private readonly options: OpenStorageOptions = {}) {}

  /** A linked file as (storage of its folder, key of the file). */
  async resolve(url: string): Promise<{ storage: Storage; key: string }> {
    const cut = url.lastIndexOf('/');
    if (cut <= 0 || cut === url.length - 1) {
      throw new StrataError('INVALID_ARGUMENT', `link ${url} does not name a file`, {
        file: url,
        hint: 'use an absolute path or a file://, s3:// or https:// URL',
      });
    }
    const dir = url.slice(0, cut) || '/';
    const key = decodeURIComponent(url.slice(cut + 1));
    let p = this.stores.get(dir);
    if (!p) {
      p = Promise.resolve(openStorage(dir, this.options));
      p.catch(() => this.stores.delete(dir));
      this.stores.set(dir, p);
    }
    return { storage: await p, key };
  }
}
