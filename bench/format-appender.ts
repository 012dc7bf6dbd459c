/**
 * One appender process of `bench -- format`: argv <uri> <storage options JSON> <writer> <commits> <rows>.
 * Prints one line `{"ok":n,"failed":m}`: a failed commit is counted and the next one attempted.
 */
import { readLatestAnyManifest } from '../src/format/latest.js';
import { TransactionV2 } from '../src/format/transaction-v2.js';
import { VersionReader } from '../src/format/version-reader.js';
import { openStorage } from '../src/storage/open.js';

const [uri, optionsJson, writerText, commitsText, rowsText] = process.argv.slice(2);
const storage = await openStorage(uri, JSON.parse(optionsJson) as Record<string, unknown>);
let ok = 0;
let failed = 0;
for (let c = 0; c < Number(commitsText); c++) {
  try {
    const txn = new TransactionV2(storage, new VersionReader(storage, await readLatestAnyManifest(storage)), {
      writer: `bench ${writerText}`,
    });
    for (let r = 0; r < Number(rowsText); r++) {
      await txn.appendRow({ n: { bytes: new Uint8Array(new Uint32Array([c * 1000 + r]).buffer), shape: [] } });
    }
    await txn.commit(`w${writerText} ${c}`);
    ok++;
  } catch (err) {
    console.error(String(err));
    failed++;
  }
}
await storage.close();
console.log(JSON.stringify({ ok, failed }));
