/**
 * Synthetic events for backfill benchmarks and tests: `events` rows of (`entity_id` int32,
 * `event_timestamp` ms, `value` float64) for `entities` entities over `days` days from 2024-01-01,
 * deterministic for a seed, written a batch at a time (bounded memory) as an Arrow IPC stream and,
 * optionally, as CSV. Values are multiples of 0.25 below 25,000, so sums are exact in any order.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import * as A from 'apache-arrow';

export interface EventFilesOptions {
  readonly events: number;
  readonly entities: number;
  /** Default 30. */
  readonly days?: number;
  /** Default 7. */
  readonly seed?: number;
  /** Rows per Arrow record batch. Default 65,536. */
  readonly batchRows?: number;
  /** Arrow IPC stream file to write. */
  readonly arrow: string;
  /** CSV file to write (header `entity_id,event_timestamp,value`, ISO timestamps). */
  readonly csv?: string;
}

const T0 = Date.UTC(2024, 0, 1);

export async function writeEventFiles(options: EventFilesOptions): Promise<void> {
  const { events, entities, days = 30, batchRows = 65_536 } = options;
  let s = (options.seed ?? 7) >>> 0;
  const next = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s;
  };
  const arrowOut = createWriteStream(options.arrow);
  const writer = new A.RecordBatchStreamWriter();
  writer.toNodeStream().pipe(arrowOut);
  const csv = options.csv ? createWriteStream(options.csv) : null;
  const put = async (text: string) => {
    if (csv && !csv.write(text)) await new Promise<void>((res) => csv.once('drain', () => res()));
  };
  await put('entity_id,event_timestamp,value\n');
  for (let at = 0; at < events; at += batchRows) {
    const n = Math.min(batchRows, events - at);
    const ent = new Int32Array(n);
    const ts = new BigInt64Array(n);
    const val = new Float64Array(n);
    let text = '';
    for (let i = 0; i < n; i++) {
      ent[i] = next() % entities;
      const ms = T0 + (next() % (days * 86_400)) * 1000 + (next() % 1000);
      ts[i] = BigInt(ms);
      val[i] = (next() % 100_000) / 4;
      if (csv) {
        text += `${ent[i]},${new Date(ms).toISOString()},${val[i]}\n`;
        if (text.length > 1 << 20) {
          await put(text);
          text = '';
        }
      }
    }
    await put(text);
    writer.write(
      new A.Table({
        entity_id: A.makeVector(ent),
        event_timestamp: A.makeVector(A.makeData({ type: new A.TimestampMillisecond(), length: n, data: ts })),
        value: A.makeVector(val),
      }).batches[0],
    );
    await new Promise((res) => setImmediate(res));
  }
  writer.finish();
  csv?.end();
  await Promise.all([finished(arrowOut), ...(csv ? [finished(csv)] : [])]);
}
