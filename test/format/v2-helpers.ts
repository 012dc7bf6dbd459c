import { encodeManifestV2, emptyManifestV2, type ColumnSchema } from '../../src/format/manifest-v2.js';
import { versionKey } from '../../src/format/manifest.js';
import { writeLatestHint } from '../../src/format/latest.js';
import type { Storage } from '../../src/storage/storage.js';

export const SCHEMA: ColumnSchema[] = [
  {
    name: 'data',
    id: 'c0aaaaaa0',
    htype: 'generic',
    dtype: 'uint8',
    sampleCompression: 'none',
    chunkCompression: 'none',
    meta: {},
  },
  {
    name: 'seq',
    id: 'c1aaaaaa1',
    htype: 'generic',
    dtype: 'uint32',
    sampleCompression: 'none',
    chunkCompression: 'lz4',
    meta: {},
  },
  {
    name: 'emb',
    id: 'c2aaaaaa2',
    htype: 'embedding',
    dtype: 'float32',
    sampleCompression: 'none',
    chunkCompression: 'none',
    meta: { dim: 2, lineage: { model: 'test' } },
  },
];

/** Publishes version 0 of a v2 dataset with SCHEMA. */
export async function createV2(storage: Storage, schema: ColumnSchema[] = SCHEMA): Promise<void> {
  await storage.putIfAbsent(versionKey(0), encodeManifestV2(emptyManifestV2('test', schema)));
  await writeLatestHint(storage, 0);
}
