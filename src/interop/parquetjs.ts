/** parquetjs-lite is loaded in one place, src/tables/parquetjs.ts; interop reads it from there. */
export { parquetLib, readRecords, type ParquetLib } from '../tables/parquetjs.js';
