import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { startS3Server } from './s3-server.js';

export const BACKENDS = ['memory', 'local', 's3'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** A storage backend for a conformance suite: `uri()` gives a fresh dataset root each call. */
export interface Backend {
  readonly name: BackendName;
  uri(): string;
  open(uri: string): Promise<Storage>;
  /** Options to pass to Dataset.open/create so S3 works against the test server. */
  readonly options: Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startBackend(name: BackendName): Promise<Backend> {
  const id = () => randomBytes(6).toString('hex');
  if (name === 'memory') {
    return { name, uri: () => `memory://${id()}`, open: (u) => openStorage(u), options: {}, stop: async () => {} };
  }
  if (name === 'local') {
    const dir = await mkdtemp(path.join(tmpdir(), 'strata-test-'));
    return {
      name,
      uri: () => path.join(dir, id()),
      open: (u) => openStorage(u),
      options: {},
      stop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const server = await startS3Server();
  const options = { s3: { ...server.s3Options, retryBaseDelayMs: 5 } };
  return {
    name,
    uri: () => `s3://${server.bucket}/${id()}`,
    open: (u) => openStorage(u, options),
    options,
    stop: () => server.stop(),
  };
}
