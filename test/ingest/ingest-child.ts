/** Child process for the kill test: ingests argv[2] into argv[3], committing every 4 rows, slowly. */
import { ingest } from '../../src/ingest/index.js';

await ingest(process.argv[2], process.argv[3], {
  commitEveryRows: 4,
  concurrency: 2,
  onProgress: (p) => {
    process.stdout.write(`${p.done}\n`);
    const until = Date.now() + 25;
    while (Date.now() < until) {
      /* slow down so the parent can kill us halfway */
    }
  },
});
process.stdout.write('finished\n');
