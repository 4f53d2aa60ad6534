import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CleanReport } from '../core/line-cleaner.js';
import { ThreadedParquetFile } from '../lake/threaded-parquet.js';
import { batchQuarantineLine } from './quarantine.js';
import { cleanFile, type ReadOptions } from './source.js';

export interface CleanOutput {
  report: CleanReport;
  parquetPath: string;
  quarantinePath: string;
  reportPath: string;
}

/**
 * `ecomflow clean`: a CSV file in; clean lines as Parquet, the quarantine as NDJSON and the counts as JSON
 * out, under `outDir`.
 */
export async function cleanToDirectory(
  input: string,
  outDir: string,
  options: ReadOptions = {},
): Promise<CleanOutput> {
  await mkdir(outDir, { recursive: true });
  const parquetPath = join(outDir, 'lines.parquet');
  const quarantinePath = join(outDir, 'quarantine.ndjson');
  const reportPath = join(outDir, 'report.json');
  await rm(reportPath, { force: true });

  const parquet = new ThreadedParquetFile(parquetPath);
  const quarantine = createWriteStream(quarantinePath);
  let report: CleanReport;
  try {
    report = await cleanFile(
      input,
      {
        line: (line) => parquet.append(line),
        reject: (rejection) => {
          quarantine.write(batchQuarantineLine(rejection, input, new Date()));
        },
      },
      { ...options, afterChunk: () => parquet.drain() },
    );
    await parquet.close();
  } catch (err) {
    await parquet.abort();
    quarantine.destroy();
    await rm(parquetPath, { force: true });
    throw err;
  }
  await new Promise<void>((resolve, reject) =>
    quarantine.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  // The report is written last: its presence says the other two files are complete.
  await writeFile(reportPath, `${JSON.stringify({ input, ...report }, null, 2)}\n`);
  return { report, parquetPath, quarantinePath, reportPath };
}
