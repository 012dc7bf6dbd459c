import { randomBytes } from 'node:crypto';
import type { Storage } from '../storage/storage.js';
import { type Sample, encodeChunk, sampleAt } from './chunk.js';
import { decodeRefChunk } from './chunk-ref.js';
import { computeChunkStats } from './chunk-stats.js';
import { CHUNKS_PREFIX, type ChunkRef, type ColumnManifest } from './manifest.js';

/** Default target chunk size (Deep Lake's): 8 MiB. A sample larger than the target is stored alone in its own chunk. */
export const DEFAULT_CHUNK_SIZE_BYTES = 8 * 1024 * 1024;

export interface ColumnWriterOptions {
  /** Target chunk size in bytes. Default 8 MiB. */
  readonly chunkSizeBytes?: number;
  /** Chunk uploads in flight at once. Default 4. */
  readonly maxInflightChunks?: number;
  readonly signal?: AbortSignal;
}

/** What a writer added to its column, ready to be recorded in a manifest. */
export interface ColumnAppend {
  readonly column: string;
  readonly appended: number;
  readonly chunks: readonly ChunkRef[];
  /** True when the first of `chunks` replaces the base's last chunk (tail merge of a small append). */
  readonly replacesTail: boolean;
}

/** A unique, time-ordered chunk key; the time prefix lets `vacuum` judge a chunk's age without a HEAD. */
export function newChunkKey(columnId: string): string {
  const t = Date.now().toString(16).padStart(12, '0');
  return `${CHUNKS_PREFIX}${columnId}/${t}-${randomBytes(8).toString('hex')}.chunk`;
}

export function chunkTimeMs(key: string): number | undefined {
  const m = /\/([0-9a-f]{12})-[0-9a-f]{16}\.chunk$/.exec(key);
  return m ? parseInt(m[1], 16) : undefined;
}

/**
 * Packs appended samples into immutable chunks and uploads them as they fill.
 * Nothing becomes visible until a manifest referencing the chunks is published.
 */
export class ColumnWriter {
  private pending: (Sample | null)[] = [];
  private pendingBytes = 0;
  private readonly written: ChunkRef[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private appended = 0;
  private readonly target: number;
  private readonly maxInflight: number;
  private failure: Error | undefined;

  constructor(
    private readonly storage: Storage,
    readonly base: ColumnManifest,
    private readonly options: ColumnWriterOptions = {},
  ) {
    this.target = options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
    this.maxInflight = options.maxInflightChunks ?? 4;
  }

  get count(): number {
    return this.appended;
  }

  async append(sample: Sample | null): Promise<void> {
    const size = sample?.bytes.byteLength ?? 0;
    if (this.pending.length > 0 && this.pendingBytes + size > this.target) await this.flush();
    // Copy: callers may reuse their buffers once append resolves.
    this.pending.push(sample === null ? null : { bytes: sample.bytes.slice(), shape: [...sample.shape] });
    this.pendingBytes += size;
    this.appended++;
  }

  /**
   * Uploads everything still buffered and returns the chunks written. A small final batch is merged
   * into the base's small last chunk (when this writer flushed nothing else) so one-row commits do not
   * leave one chunk per row.
   */
  async finish(): Promise<ColumnAppend> {
    let replacesTail = false;
    if (this.pending.length > 0) {
      const tail = this.base.chunks[this.base.chunks.length - 1];
      if (
        this.written.length === 0 &&
        this.inflight.size === 0 &&
        tail &&
        tail.bytes + this.pendingBytes <= this.target / 2
      ) {
        const old = decodeRefChunk(await this.storage.get(tail.key, { signal: this.options.signal }), tail, this.base);
        const merged: (Sample | null)[] = [];
        for (let i = 0; i < old.header.count; i++) merged.push(sampleAt(old, i));
        this.pending = merged.concat(this.pending);
        replacesTail = true;
      }
      await this.flush();
    }
    await this.drain();
    return { column: this.base.name, appended: this.appended, chunks: this.written, replacesTail };
  }

  /** The samples of the final partial chunk are kept so a rebase can rewrite them without a merge. */
  private async flush(): Promise<void> {
    const samples = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const bytes = encodeChunk(
      { dtype: this.base.dtype, codec: this.base.chunkCompression, sampleCompression: this.base.sampleCompression },
      samples,
    );
    const key = newChunkKey(this.base.id);
    const headerBytes = new DataView(bytes.buffer).getUint32(16, true);
    const stats = computeChunkStats(this.base.dtype, samples);
    this.written.push({
      key,
      samples: samples.length,
      bytes: bytes.byteLength,
      headerBytes,
      ...(stats ? { stats } : {}),
    });
    while (this.inflight.size >= this.maxInflight) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
    const p = this.storage
      .put(key, bytes, { signal: this.options.signal })
      .catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async drain(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
  }

  /** Waits for uploads and discards the result (used on abort). Chunks already written become garbage for vacuum. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }
}
