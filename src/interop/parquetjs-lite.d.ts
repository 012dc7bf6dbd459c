/** Minimal types for parquetjs-lite (it ships none): only what Strata uses. */
declare module 'parquetjs-lite' {
  export interface ParquetFieldSpec {
    type?: string;
    optional?: boolean;
    repeated?: boolean;
    compression?: string;
    fields?: Record<string, ParquetFieldSpec>;
  }
  /** A field of a file's (or a new) schema; nested groups carry `fields`. */
  export interface ParquetField {
    name: string;
    primitiveType?: string;
    originalType?: string;
    repetitionType: string;
    fieldCount?: number;
    fields?: Record<string, ParquetField>;
  }
  export class ParquetSchema {
    constructor(fields: Record<string, ParquetFieldSpec>);
    readonly fields: Record<string, ParquetField>;
  }
  export interface ParquetCursor {
    next(): Promise<Record<string, unknown> | null>;
  }
  /** The byte layer of a reader: `readFn(offset, length)` fetches a range of a file of `fileSize` bytes. */
  export class ParquetEnvelopeReader {
    constructor(
      readFn: (offset: number, length: number, file?: unknown) => Promise<Buffer>,
      closeFn: () => unknown,
      fileSize: number,
      options?: Record<string, unknown>,
    );
  }
  export class ParquetReader {
    static openEnvelopeReader(
      envelope: ParquetEnvelopeReader,
      options?: { rawStatistics?: boolean },
    ): Promise<ParquetReader>;
    /** `rawStatistics`: keep column statistics undecoded (INT64 timestamp statistics cannot be decoded). */
    static openFile(path: string, options?: { rawStatistics?: boolean }): Promise<ParquetReader>;
    static openBuffer(buffer: Buffer, options?: { rawStatistics?: boolean }): Promise<ParquetReader>;
    readonly schema: ParquetSchema;
    getSchema(): ParquetSchema;
    getCursor(columns?: string[]): ParquetCursor;
    getRowCount(): number | bigint;
    getMetadata(): Record<string, string>;
    close(): Promise<void>;
  }
  export class ParquetWriter {
    static openFile(
      schema: ParquetSchema,
      path: string,
      opts?: { useDataPageV2?: boolean; rowGroupSize?: number },
    ): Promise<ParquetWriter>;
    appendRow(row: Record<string, unknown>): Promise<void>;
    setMetadata(key: string, value: string): void;
    setRowGroupSize(n: number): void;
    close(): Promise<void>;
  }
}
