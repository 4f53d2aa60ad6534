import { parseArgs } from 'node:util';
import { cleanToDirectory } from '../../batch/clean-to-dir.js';
import { ENCODINGS, type Encoding } from '../../core/decode.js';
import { UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount, ProgressBar } from '../progress.js';

export const cleanUsage = `ecomflow clean <input.csv|input.csv.gz> --out <dir> [--encoding auto|utf-8|windows-1252|latin1]

Cleans a UCI Online Retail export. Writes <dir>/lines.parquet, <dir>/quarantine.ndjson and <dir>/report.json.`;

export async function cleanCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      out: { type: 'string', short: 'o' },
      encoding: { type: 'string', default: 'auto' },
    },
  });
  if (values.help) return printUsage(cleanUsage);
  const [input, ...extra] = positionals;
  if (!input || extra.length > 0) throw new UsageError(`expected one input file\n\n${cleanUsage}`);
  if (!values.out) throw new UsageError(`--out <dir> is required\n\n${cleanUsage}`);
  const encoding = parseEncoding(values.encoding);

  const progress = new ProgressBar('clean');
  let rows = 0;
  const { report, parquetPath, quarantinePath, reportPath } = await cleanToDirectory(input, values.out, {
    encoding,
    onProgress: (done, total) => progress.update(done, total, rows),
  });
  rows = report.rows_read;
  progress.done();
  printReport(report);
  console.log(`  lines      ${parquetPath}\n  quarantine ${quarantinePath}\n  report     ${reportPath}`);
}

export function parseEncoding(value: string | undefined): Encoding {
  const encoding = (value ?? 'auto').toLowerCase();
  if (!(ENCODINGS as readonly string[]).includes(encoding)) {
    throw new UsageError(`--encoding must be one of ${ENCODINGS.join(', ')}, not "${value}"`);
  }
  return encoding as Encoding;
}

/** The counts, as `ecomflow clean` and `ecomflow load` print them. */
export function printReport(report: {
  rows_read: number;
  rows_clean: number;
  duplicates: number;
  quarantined: number;
  by_reason: Record<string, number>;
}): void {
  console.log(`read ${formatCount(report.rows_read)} rows`);
  console.log(`  clean       ${formatCount(report.rows_clean)}`);
  console.log(`  duplicates  ${formatCount(report.duplicates)}`);
  console.log(`  quarantined ${formatCount(report.quarantined)}`);
  for (const [reason, count] of Object.entries(report.by_reason)) {
    if (count > 0) console.log(`    ${reason.padEnd(20)} ${formatCount(count)}`);
  }
}
