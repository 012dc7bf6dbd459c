import { throwIfAborted } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { sampleAt } from './chunk.js';
import { decodeRefChunk } from './chunk-ref.js';
import { computeChunkStats, hasStats } from './chunk-stats.js';
import type { FragmentFile } from './fragment.js';
import type { ColumnSchema } from './manifest-v2.js';

/**
 * A copy of `file` (the fragment a v1 migration writes) whose chunks of scalar columns carry
 * statistics: those chunks are read (verified) once; media and tensor chunks are not touched.
 * Chunks that already have stats keep them.
 */
export async function withMigratedStats(
  storage: Storage,
  file: FragmentFile,
  schema: readonly ColumnSchema[],
  signal?: AbortSignal,
): Promise<FragmentFile> {
  const columns: Record<string, FragmentFile['columns'][string]> = { ...file.columns };
  for (const c of schema) {
    const segments = file.columns[c.id];
    if (!segments || !hasStats(c.dtype) || c.sampleCompression !== 'none') continue;
    const manifest = { ...c, length: 0, chunks: [] };
    columns[c.id] = await Promise.all(
      segments.map(async (s) => ({
        ...s,
        chunks: await Promise.all(
          s.chunks.map(async (ref) => {
            if (ref.stats) return ref;
            throwIfAborted(signal, 'migrate');
            const chunk = decodeRefChunk(await storage.get(ref.key, { signal }), ref, manifest);
            const samples = Array.from({ length: chunk.header.count }, (_, i) => sampleAt(chunk, i));
            const stats = computeChunkStats(c.dtype, samples);
            return stats ? { ...ref, stats } : ref;
          }),
        ),
      })),
    );
  }
  return { ...file, columns };
}
