// Child process for the "parse and clean only" figure: the core over the file, results discarded.
import { cleanFile } from '../src/batch/source.js';

const started = performance.now();
const report = await cleanFile(process.argv[2]!, { line: () => {}, reject: () => {} });
console.log(JSON.stringify({ ms: performance.now() - started, rows: report.rows_read }));
