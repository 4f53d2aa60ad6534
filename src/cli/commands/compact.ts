import { parseArgs } from 'node:util';
import { s3LakeStore } from '../../adapters/lake-store.js';
import { createS3Client } from '../../adapters/s3.js';
import { LOCAL_RESOURCES, localPipelineConfig, readStackSettings } from '../../config/local.js';
import { compactLake } from '../../lake/compact.js';
import { readStackInfo } from '../../local/stack.js';
import { dayOption } from '../day.js';
import { CliError, UsageError } from '../errors.js';
import { formatCount } from '../progress.js';

export const compactUsage = `ecomflow compact [--day YYYY-MM-DD] [--min-age-seconds N] [--json]

Rewrites each day partition of the local lake into one Parquet object (one per 128 MiB), each line once:
the new object is written before the old ones are deleted, so queries never miss a line, and a second run
changes nothing. Objects younger than two Firehose buffer intervals are left for a later run (--min-age-seconds
overrides it; 0 takes everything). The running stack also compacts on its own, every minute. On AWS the
scheduled compact function does the same.`;

export async function compactCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      day: { type: 'string' },
      'min-age-seconds': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(compactUsage);
    return;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${compactUsage}`);
  const day = dayOption('day', values.day);
  const minAgeText = values['min-age-seconds'];
  if (minAgeText !== undefined && !/^\d+$/.test(minAgeText)) {
    throw new UsageError(`--min-age-seconds must be a whole number of seconds, not "${minAgeText}"`);
  }
  const settings = readStackSettings();
  const info = await readStackInfo(settings.home).catch((cause: Error) => {
    throw new CliError(cause.message, { cause });
  });
  const config = localPipelineConfig(info.endpoints);
  const s3 = createS3Client(config.aws);
  try {
    const r = LOCAL_RESOURCES;
    const report = await compactLake(s3LakeStore(s3, r.lakeBucket, r.lakePrefix, config.lakeYears), {
      prefix: r.lakePrefix,
      day,
      minAgeMs: minAgeText === undefined ? settings.compactMinAgeMs : Number(minAgeText) * 1000,
    });
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    const waiting = report.partitions.filter((p) => p.young > 0).length;
    console.log(
      `compacted ${formatCount(report.compacted)} of ${formatCount(report.partitions.length)} day partitions: ` +
        `${formatCount(report.objectsBefore)} objects to ${formatCount(report.objectsAfter)}, ` +
        `${formatCount(report.duplicatesDropped)} duplicate lines dropped` +
        (waiting > 0 ? `; ${formatCount(waiting)} days have objects too young to touch yet` : ''),
    );
  } finally {
    s3.destroy();
  }
}
