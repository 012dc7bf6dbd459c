/** Getting data in: `ingest` from local folders and S3 prefixes (ImageFolder or table layouts). */
export { ingest, type IngestOptions, type IngestSummary } from './ingest.js';
export {
  IMAGE_EXTENSIONS,
  VIDEO_EXTENSIONS,
  INGEST_LAYOUTS,
  type IngestLayout,
  inferSpec,
  mediaKindOf,
} from './source.js';
export { TABLE_FORMATS, type TableFormat, parseCsv } from './table.js';
