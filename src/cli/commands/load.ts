import { parseArgs } from 'node:util';
import { createDocumentClient } from '../../adapters/dynamodb.js';
import { PgWarehouse } from '../../adapters/pg-warehouse.js';
import { createS3Client } from '../../adapters/s3.js';
import { bucketReachable, writeObject } from '../../adapters/s3-objects.js';
import { type LoadResult, loadFile } from '../../batch/load.js';
import { LOCAL_RESOURCES, readStackSettings } from '../../config/local.js';
import { refreshLocalStack, unrefreshedRows } from '../../local/live-refresh.js';
import { readStackInfo } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount, ProgressBar } from '../progress.js';
import { parseEncoding, printReport } from './clean.js';
import { loadAwsCommand } from './load-aws.js';

export const loadUsage = `ecomflow load <file.csv|file.csv.gz> [--target local|aws] [--bucket <raw bucket>] [--dynamodb] [--encoding ...]

Loads a file through the cleaning core into the lake (Parquet, year=/month=/day=) and the warehouse
(COPY + merge by line_id); --dynamodb also fills the look-up tables. Idempotent and resumable. Then the
stack's marts, loyalty balances and dashboard snapshot are refreshed, as the stack does when lines arrive.
With --target aws it uploads the file to the stack's raw bucket (--bucket, or ECOMFLOW_RAW_BUCKET) under
incoming/ and follows the batch load there (docs/scaling.md).`;

export async function loadCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      target: { type: 'string', default: 'local' },
      bucket: { type: 'string' },
      dynamodb: { type: 'boolean', default: false },
      encoding: { type: 'string', default: 'auto' },
    },
  });
  if (values.help) return printUsage(loadUsage);
  const [input, ...extra] = positionals;
  if (!input || extra.length > 0) throw new UsageError(`expected one input file\n\n${loadUsage}`);
  if (values.target === 'aws') {
    // Uploads to the raw bucket's incoming/ and follows the batch load there (src/batch/aws/remote.ts).
    await loadAwsCommand(input, { bucket: values.bucket, encoding: parseEncoding(values.encoding) });
    return;
  }
  if (values.target !== 'local')
    throw new UsageError(`--target must be local or aws, not "${values.target}"`);
  const encoding = parseEncoding(values.encoding);

  const settings = readStackSettings();
  const info = await readStackInfo(settings.home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const aws = { region: LOCAL_RESOURCES.region, endpoints: info.endpoints };
  const s3 = createS3Client(aws);
  const warehouse = new PgWarehouse(info.warehouseUrl);
  const doc = values.dynamodb ? createDocumentClient(aws) : null;
  try {
    await ensureRunning(s3, warehouse, info.apiUrl);
    const progress = new ProgressBar('load');
    const started = performance.now();
    const result = await loadFile(
      input,
      {
        lake: {
          put: async (key, body) => {
            await writeObject(s3, LOCAL_RESOURCES.lakeBucket, key, body);
          },
        },
        lakePrefix: LOCAL_RESOURCES.lakePrefix,
        warehouse,
        ...(doc
          ? {
              dynamodb: {
                doc,
                tables: {
                  invoices: LOCAL_RESOURCES.invoicesTable,
                  customers: LOCAL_RESOURCES.customersTable,
                },
                concurrency: 8,
              },
            }
          : {}),
      },
      {
        manifestDir: `${settings.home}/loads`,
        encoding,
        onProgress: (done, total, rows) => progress.update(done, total, rows),
      },
    );
    progress.done();
    printLoad(result, (performance.now() - started) / 1000);
    // Also after a load found already done: an earlier run may have stopped between its COPY and here.
    if (!result.alreadyLoaded || (await unrefreshedRows(warehouse)) > 0) {
      // The stack's own refresh (src/local/live-refresh.ts), so the marts show the file when load returns.
      const local = await refreshLocalStack({
        warehouse,
        target: 'the local warehouse',
        endpoints: info.endpoints,
      });
      console.log(
        `  refresh    staging and the marts in ${local.refresh.ms} ms, ${formatCount(local.loyalty.balances)} loyalty balances, snapshot at ${local.snapshotUri}`,
      );
    }
  } finally {
    s3.destroy();
    doc?.destroy();
    await warehouse.close();
  }
}

async function ensureRunning(
  s3: ReturnType<typeof createS3Client>,
  warehouse: PgWarehouse,
  apiUrl: string,
): Promise<void> {
  const notRunning = (part: string) =>
    new CliError(
      `the local ${part} is not running: start the stack with \`npm start\` (its API would be at ${apiUrl})`,
      { code: 'not_running' },
    );
  if (!(await bucketReachable(s3, LOCAL_RESOURCES.lakeBucket))) throw notRunning('S3 (s3rver)');
  await warehouse.query('SELECT 1').catch(() => {
    throw notRunning('warehouse (PostgreSQL)');
  });
}

function printLoad(result: LoadResult, seconds: number): void {
  if (result.alreadyLoaded)
    console.log(`${result.source} was loaded before (source ${result.sourceId}): nothing to do`);
  printReport(result.report);
  console.log(
    `  lake       ${result.lake.parts} parts written, ${result.lake.skipped} already there, ${formatCount(result.lake.rows)} lines`,
  );
  const w = result.warehouse;
  console.log(
    `  warehouse  ${w === 'already loaded' ? 'already loaded' : `${formatCount(w.copied)} copied, ${formatCount(w.inserted)} new in raw.invoice_lines`}`,
  );
  const d = result.dynamodb;
  if (d !== 'not requested')
    console.log(`  dynamodb   ${typeof d === 'string' ? d : `${formatCount(d.writes)} items written`}`);
  if (!result.alreadyLoaded && seconds > 0) {
    console.log(`  ${seconds.toFixed(1)} s, ${formatCount(result.report.rows_read / seconds)} rows/s`);
  }
}
