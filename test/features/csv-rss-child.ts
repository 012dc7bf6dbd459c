/**
 * Child process for csv-bounded-memory.test.ts: `node --import tsx csv-rss-child.ts <mode> <file>`.
 * `idle`: loads the modules only; `whole`: holds the file's text as one string (the old loader's
 * floor); `stream`: reads the file as a CSV source (declared schema, types over the whole file).
 * Prints one JSON line: rows read and the process's peak RSS in bytes.
 */
import { readFile } from 'node:fs/promises';
import { readCsvFile } from '../../src/features/sources/csv.js';

const [mode, file] = process.argv.slice(2);
let rows = 0;
let text = '';
let columnBytes = 0;
if (mode === 'whole') {
  text = await readFile(file, 'utf8');
  rows = text.length;
} else if (mode === 'stream') {
  const t = await readCsvFile(file, { user_id: 'int64', ts: 'timestamp', amount: 'float64', note: 'string' });
  rows = t.numRows;
  for (const batch of t.batches)
    for (const child of batch.data.children)
      for (const buf of [child.values, child.valueOffsets, child.nullBitmap])
        columnBytes += (buf as ArrayBufferView | undefined)?.byteLength ?? 0;
}
process.stdout.write(
  `${JSON.stringify({ rows, columnBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024, keep: text.length })}\n`,
);
