/**
 * The viewer's JSON API as both sides see it: the server (src/serve/viewer*.ts) returns these shapes and the
 * page (src/serve/viewer/browser/) reads them. No imports and no runtime code beyond constants: this file is
 * compiled for Node and for the browser.
 */

export const COLUMN_KINDS = ['image', 'video', 'label', 'bbox', 'embedding', 'text', 'number', 'other'] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

export interface ViewerColumn {
  readonly name: string;
  readonly htype: string;
  readonly kind: ColumnKind;
  /** Whether the page offers it as a filter (labels, text, numbers). */
  readonly filterable: boolean;
  readonly classNames?: readonly string[];
  readonly dim?: number;
}

export interface ViewerRoles {
  readonly media?: string;
  readonly label?: string;
  readonly bbox?: string;
  readonly embedding?: string;
}

/** An image cell's shape (nothing decoded); the pixels are at /api/thumb/:column/:row. */
export interface ViewerImage {
  readonly kind: 'image';
  readonly column: string;
  readonly width: number;
  readonly height: number;
  readonly format: string;
}

/** A video cell's shape; the poster is at /api/thumb/:column/:row and frames at /api/frame/:column/:row?t=. */
export interface ViewerVideo {
  readonly kind: 'video';
  readonly column: string;
  readonly width: number;
  readonly height: number;
  readonly durationS: number;
  readonly fps: number;
  readonly frameCount: number;
}

export type ViewerMedia = ViewerImage | ViewerVideo;

export interface ViewerRow {
  /** Position in the (filtered) view. */
  readonly index: number;
  /** Physical row number in the dataset version. */
  readonly row: number;
  readonly label?: string;
  readonly media?: ViewerMedia;
  /** Boxes as [left, top, right, bottom] fractions of the image. */
  readonly boxes?: number[][];
  /** Display text of every non-media column. */
  readonly values: Record<string, string>;
  /** Similarity to the query row (only in /api/similar answers). */
  readonly score?: number;
}

/** GET /api/info */
export interface InfoResponse {
  readonly uri: string;
  readonly version: number;
  readonly length: number;
  readonly columns: readonly ViewerColumn[];
  readonly roles: ViewerRoles;
  readonly embeddingColumns: readonly string[];
  /** Rows per page when the page does not say. */
  readonly pageSize: number;
  /** Grid thumbnail size (longest side, pixels). */
  readonly thumbSize: number;
}

/** GET /api/values?column=c: distinct values, most frequent first (at most 1000 of `distinct`). */
export interface ValuesResponse {
  readonly column: string;
  readonly values: readonly { readonly value: unknown; readonly count: number }[];
  readonly distinct: number;
}

/** GET /api/rows?offset&limit&filter */
export interface RowsResponse {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly filter: Record<string, unknown> | null;
  readonly rows: readonly ViewerRow[];
}

/** GET /api/similar?row&k&column&filter: rows best first, each with a `score`. */
export interface SimilarResponse {
  readonly column: string;
  readonly query: number;
  readonly metric: string;
  readonly rows: readonly ViewerRow[];
}

/** Every non-2xx answer. `code` is a StrataError code (or INTERNAL). */
export interface ErrorResponse {
  readonly error: { readonly code: string; readonly message: string };
}

/** GET /api/sql?q=SELECT…[&limit=N]: the answer of `ds.sql(q)`, at most `limit` rows as JSON values. */
export interface SqlResponse {
  readonly columns: readonly string[];
  /** One array of cells per row: numbers (bigints beyond 2^53 as strings), strings, null, lists, objects; BLOBs as "<n bytes>". */
  readonly rows: readonly (readonly unknown[])[];
  /** Rows in the whole answer. */
  readonly total: number;
}
