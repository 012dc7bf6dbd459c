import type { ColumnSpec } from './schema.js';
import { decodeImage, type DecodeImageOptions, type DecodedImage } from '../media/image.js';
import type { ByteSource } from '../media/range-server.js';
import { VideoReader, type FrameSelection, type VideoFrame, type VideoInfo } from '../media/video.js';

/** Where a media cell's bytes come from (a chunk sample or a linked file), read on demand. */
export interface CellSource {
  readonly column: string;
  readonly row: number;
  /** The stored bytes (whole file). */
  bytes(signal?: AbortSignal): Promise<Uint8Array>;
  /** Ranged access without reading the whole file (used to seek in videos). */
  byteSource(signal?: AbortSignal): Promise<ByteSource>;
  /** For links: the URL. */
  readonly url?: string;
}

/** A lazy image: shape and format come from the info column; nothing is read until asked for. */
export class ImageCell {
  readonly kind = 'image';
  constructor(
    readonly format: string,
    readonly shape: readonly number[],
    private readonly source: CellSource,
  ) {}

  get url(): string | undefined {
    return this.source.url;
  }

  bytes(options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return this.source.bytes(options.signal);
  }

  /**
   * HWC uint8 pixels via sharp; damaged bytes raise CORRUPT naming the row. Strict by default
   * (`failOn: 'warning'`): data libjpeg would silently conceal (grey blocks) is an error here.
   */
  async decode(options: DecodeImageOptions = {}): Promise<DecodedImage> {
    return decodeImage(
      await this.bytes(),
      { failOn: 'warning', ...options },
      { column: this.source.column, row: this.source.row, file: this.source.url },
    );
  }

  toString(): string {
    return `<image ${this.shape.join('×')} ${this.format}>`;
  }

  toJSON(): unknown {
    return { kind: 'image', format: this.format, shape: this.shape, ...(this.url ? { url: this.url } : {}) };
  }
}

export type { VideoInfo };

/** A lazy video: metadata from the info column; frames are decoded one by one with ffmpeg seeking. */
export class VideoCell {
  readonly kind = 'video';
  constructor(
    readonly info: VideoInfo,
    private readonly source: CellSource,
  ) {}

  get shape(): readonly number[] {
    return [this.info.frameCount, this.info.height, this.info.width, 3];
  }

  get url(): string | undefined {
    return this.source.url;
  }

  bytes(options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return this.source.bytes(options.signal);
  }

  /** A reader that seeks through ranged reads; close it when done (or use the one-shot helpers below). */
  async open(options: { signal?: AbortSignal } = {}): Promise<VideoReader> {
    const src = await this.source.byteSource(options.signal);
    return VideoReader.open(src, {
      context: { column: this.source.column, row: this.source.row, file: this.source.url },
      info: this.info,
    });
  }

  async frame(index: number): Promise<VideoFrame> {
    const r = await this.open();
    try {
      return await r.frame(index);
    } finally {
      await r.close();
    }
  }

  async frameAt(seconds: number): Promise<VideoFrame> {
    const r = await this.open();
    try {
      return await r.frameAt(seconds);
    } finally {
      await r.close();
    }
  }

  /** Frames by `{ count }`, `{ everySeconds }` or `{ indices }`; only those frames are decoded. */
  async frames(selection: FrameSelection): Promise<VideoFrame[]> {
    const r = await this.open();
    try {
      return await r.frames(selection).toArray();
    } finally {
      await r.close();
    }
  }

  toString(): string {
    const i = this.info;
    return `<video ${i.durationS.toFixed(1)} s ${Number(i.fps.toFixed(2))} fps ${i.width}×${i.height}>`;
  }

  toJSON(): unknown {
    return { kind: 'video', ...this.info, ...(this.url ? { url: this.url } : {}) };
  }
}

export type MediaCell = ImageCell | VideoCell;

/** Builds the cell for a media column from its info record. */
export function mediaCell(
  spec: ColumnSpec,
  info: Record<string, unknown> | null,
  source: CellSource,
): MediaCell | null {
  if (info === null) return null;
  const isVideo = spec.htype === 'video' || (spec.htype === 'link' && spec.target === 'video');
  if (isVideo) return new VideoCell(info as unknown as VideoInfo, source);
  return new ImageCell(typeof info.format === 'string' ? info.format : 'file', (info.shape as number[]) ?? [], source);
}
