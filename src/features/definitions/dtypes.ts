/** Feature dtypes are the table readers' dtypes (src/tables/dtypes.ts): one vocabulary for both. */
export * from '../../tables/dtypes.js';
