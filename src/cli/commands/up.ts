import { parseArgs } from 'node:util';
import { readStackSettings } from '../../config/local.js';
import { postSample } from '../../local/sample.js';
import { startStack } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';

export const upUsage = `ecomflow up [--no-sample]        (what \`npm start\` runs)

Runs the whole pipeline locally in the foreground: kinesalite, dynalite, s3rver, an embedded PostgreSQL
for Redshift, DuckDB for Athena, a local Firehose, the Kinesis poller and the API gateway.
PORT (3000), ECOMFLOW_HOME (.ecomflow), ECOMFLOW_API_KEY, ECOMFLOW_FIREHOSE_BUFFER_MS (5000) configure it.`;

export async function upCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...HELP_OPTION, 'no-sample': { type: 'boolean', default: false } },
  });
  if (values.help) return printUsage(upUsage);
  let settings: ReturnType<typeof readStackSettings>;
  try {
    settings = readStackSettings();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const started = performance.now();
  const log = (message: string) => console.error(`ecomflow: ${message}`);
  const stack = await startStack(settings, log).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const { info } = stack;
  console.log(
    [
      '',
      `ecomflow is up (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      `  API        ${info.apiUrl}         (x-api-key: ${info.apiKey})`,
      `  warehouse  ${info.warehouseUrl}   (the pipeline's login)`,
      `  BI         ${info.readerWarehouseUrl}   (read-only: staging and marts)`,
      `  lake       ${info.lakeUri}   (files under ${settings.home}/s3)`,
      '',
      'try:',
      `  curl ${info.apiUrl}/health`,
      `  curl -H 'x-api-key: ${info.apiKey}' ${info.apiUrl}/invoices/536366`,
      `  npx ecomflow query "SELECT country, count(*) AS lines FROM invoice_lines GROUP BY 1 ORDER BY 2 DESC LIMIT 5"`,
      `  npx ecomflow sql "SELECT count(*) FROM raw.invoice_lines"`,
      `  psql ${info.readerWarehouseUrl} -c 'SELECT * FROM marts.top_products'`,
      '',
      'Ctrl-C stops it (buffers are flushed first).',
      '',
    ].join('\n'),
  );

  let stopping: Promise<void> | null = null;
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const shutdown = (signal: string) => {
    if (stopping) return;
    log(`${signal}: stopping (flushing the Firehose buffers first)`);
    stopping = stack.stop().then(() => {
      log('stopped');
      stopped();
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  if (stack.fresh && !values['no-sample']) {
    try {
      const accepted = await postSample(info.apiUrl, info.apiKey);
      log(
        `streamed a generated sample through POST /ingest: ${accepted.toLocaleString('en-US')} rows accepted`,
      );
    } catch (err) {
      if (!stopping) log(`the sample could not be streamed: ${(err as Error).message}`);
    }
  }
  await done;
}
