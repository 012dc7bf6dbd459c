import type { DType } from '../format/dtype.js';
import type { ImageCell, MediaCell, VideoCell } from './cells.js';
import type { Tensor } from './htypes/generic.js';
import type { Htype, Schema } from './schema.js';

/** A row as the untyped API sees it (datasets opened without a schema type). */
export type Row = Record<string, unknown>;

/** The JS value of one scalar of `D`, as a `generic` column decodes it. */
export type ScalarOf<D> = D extends 'int64' | 'uint64'
  ? bigint
  : D extends 'bool'
    ? boolean
    : D extends 'string' | 'json' | 'bytes'
      ? unknown
      : number;

/** The decoded value of a column declared as `S` (null aside). */
export type CellOf<S> = S extends 'image' | { readonly htype: 'image' }
  ? ImageCell
  : S extends 'video' | { readonly htype: 'video' }
    ? VideoCell
    : S extends { readonly htype: 'link'; readonly target: 'video' }
      ? VideoCell
      : S extends { readonly htype: 'link'; readonly target: 'image' }
        ? ImageCell
        : S extends 'link' | { readonly htype: 'link' }
          ? MediaCell
          : S extends 'class_label' | { readonly htype: 'class_label' }
            ? string
            : S extends 'bbox' | { readonly htype: 'bbox' }
              ? number[][]
              : S extends 'embedding' | { readonly htype: 'embedding' }
                ? Float32Array
                : S extends 'text' | { readonly htype: 'text' }
                  ? string
                  : S extends 'json' | { readonly htype: 'json' }
                    ? unknown
                    : S extends { readonly htype: 'generic'; readonly dtype: infer D; readonly shape: readonly [] }
                      ? ScalarOf<D>
                      : S extends {
                            readonly htype: 'generic';
                            readonly dtype: DType;
                            readonly shape: readonly number[];
                          }
                        ? Tensor
                        : S extends { readonly htype: 'generic'; readonly dtype: infer D }
                          ? ScalarOf<D> | Tensor
                          : S extends 'generic'
                            ? number | Tensor
                            : S extends DType
                              ? ScalarOf<S> | Tensor
                              : S extends Htype
                                ? unknown
                                : unknown;

/**
 * The row type of a dataset with schema `S` (declared `as const` or with `defineSchema`). Every
 * column may hold null: rows appended without a value and columns added later read null.
 */
export type RowOf<S extends Schema> = { -readonly [K in keyof S & string]: CellOf<S[K]> | null };

/** The row type of `Dataset.open<S>()`: typed by a schema type, untyped (`Row`) without one. */
export type RowFor<S> = [S] extends [Schema] ? RowOf<S> : Row;

/**
 * Returns the schema unchanged, typed as written (no `as const` needed), so `Dataset.create`
 * infers row types from it: `const schema = defineSchema({ image: 'image', label: 'class_label' })`.
 */
export function defineSchema<const S extends Schema>(schema: S): S {
  return schema;
}

/** `R` with columns renamed by `M` (`{ old: 'new' }`). */
export type Renamed<R, M> = {
  [K in keyof R as K extends keyof M ? (M[K] extends string ? M[K] : K) : K]: R[K];
};

/** `R` with column `N` set to `T` (added, or replaced in place). */
export type WithColumn<R, N extends string, T> = {
  [K in keyof R | N]: K extends N ? T : K extends keyof R ? R[K] : never;
};

/** `R` with nulls removed from the columns `K`. */
export type NonNull<R, K extends keyof R> = { [P in keyof R]: P extends K ? NonNullable<R[P]> : R[P] };

/** `R` with nulls of the columns in `F` replaced by `F`'s values. */
export type Filled<R, F> = { [P in keyof R]: P extends keyof F ? NonNullable<R[P]> | F[P] : R[P] };

/** The columns a join adds from a table of rows `T` (null where no row matched). */
export type Joined<T> = { [K in keyof T]: T[K] | null };
