/** Table files (CSV, JSON Lines, Parquet, Arrow IPC) read in one place, as streams of Arrow record batches. */
export {
  TABLE_FORMATS,
  type TableFormat,
  type ReadTableOptions,
  collectTable,
  readTable,
  readTableFile,
  tableFormatOf,
} from './read.js';
export { type Dtype, JSON_EXTENSION } from './dtypes.js';
export { parquetDtype, parquetSchema } from './parquet.js';
export { CsvRecords, CsvTokenizer, csvRows, type CsvRow } from './csv.js';
