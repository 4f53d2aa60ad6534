import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKinesisClient, kinesisRangeReader } from '../../adapters/kinesis.js';
import {
  createLambdaClient,
  KINESIS_EVENT_RECORDS_MAX_BYTES,
  lambdaTransformer,
} from '../../adapters/lambda.js';
import { createSqsClient, sqsDlqSource } from '../../adapters/sqs.js';
import { ConfigError, once } from '../../config/env.js';
import { LOCAL_RESOURCES, localPipelineConfig, readStackSettings } from '../../config/local.js';
import { AWS_REDRIVE_SETTINGS, loadAwsRedriveConfig } from '../../config/redrive.js';
import { createTransformHandler } from '../../handlers/transform.js';
import { DEAD_LETTER_FILE, deadLetterFileSource } from '../../local/dead-letters.js';
import { readStackInfo } from '../../local/stack.js';
import type { Log } from '../../log.js';
import { createTransformDeps } from '../../stream/deps.js';
import {
  type MessageResult,
  REDRIVE_STATUS,
  type RedriveOptions,
  type RedriveSummary,
  redrive,
} from '../../stream/redrive.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount } from '../progress.js';

export const redriveUsage = `ecomflow redrive [--json]
ecomflow redrive --aws [--queue-url <url>] [--stream <name>] [--function <name>] [--region <region>] [--json]

Redrives the transformer's DLQ: reads each message's records back from Kinesis, runs them through the
transformer, and deletes the message once every record is stored (nothing is doubled: the writes are
idempotent by line_id). A message whose records are past the stream's retention is reported and kept.
Locally it redrives <ECOMFLOW_HOME>/${DEAD_LETTER_FILE} against the running stack; with --aws, the SQS
queue through the deployed transform function (${AWS_REDRIVE_SETTINGS.map((s) => `${s.flag} or $${s.variable}`).join(', ')}).
Prints one line per message; exits 1 when any message is kept, 0 when all were redriven or there was none.`;

/** Who invoked, in the events' `invokeIdentityArn`: the redrive, not the event source mapping's role. */
const REDRIVE_IDENTITY = 'arn:aws:iam::000000000000:role/ecomflow-redrive';

/** `ecomflow redrive`: exits 1 when a message stays in the DLQ, so an operator notices. */
export async function redriveCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      json: { type: 'boolean', default: false },
      aws: { type: 'boolean', default: false },
      'queue-url': { type: 'string' },
      stream: { type: 'string' },
      function: { type: 'string' },
      region: { type: 'string' },
    },
  });
  if (values.help) return printUsage(redriveUsage);
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${redriveUsage}`);
  const awsFlags = ['queue-url', 'stream', 'function', 'region'] as const;
  const given = awsFlags.find((flag) => values[flag] !== undefined);
  if (given && !values.aws) throw new UsageError(`--${given} is for --aws only\n\n${redriveUsage}`);

  const onResult = values.json ? undefined : (r: MessageResult) => console.log(formatResult(r));
  const summary = values.aws
    ? await redriveAws(
        {
          queueUrl: values['queue-url'],
          streamName: values.stream,
          functionName: values.function,
          region: values.region,
        },
        onResult,
      )
    : await redriveLocal(onResult);
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  const kept = summary.out_of_retention + summary.failed;
  if (kept > 0) {
    throw new CliError(`${kept} of ${plural(summary.messages, 'message')} kept in the DLQ (see above)`);
  }
}

async function redriveLocal(onResult: RedriveOptions['onResult']): Promise<RedriveSummary> {
  const settings = readStackSettings();
  const info = await readStackInfo(settings.home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  await fetch(`${info.apiUrl}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => {
    throw new CliError(
      `the local stack is not running at ${info.apiUrl}: start it with \`npm start\` (or set ECOMFLOW_HOME)`,
      { code: 'not_running' },
    );
  });
  // The transformer runs here, in this process, against the running stack's stand-ins: the same handler
  // and configuration as the stack's poller.
  const config = localPipelineConfig(info.endpoints);
  const kinesis = createKinesisClient(config.aws);
  const deps = once(() => createTransformDeps(config, stderrLog('transform')));
  const handler = createTransformHandler(deps);
  try {
    return await redrive({
      dlq: deadLetterFileSource(join(settings.home, DEAD_LETTER_FILE)),
      reader: kinesisRangeReader(kinesis),
      transform: (event) => handler(event),
      streamName: LOCAL_RESOURCES.stream,
      invokeIdentityArn: REDRIVE_IDENTITY,
      ...(onResult ? { onResult } : {}),
    });
  } finally {
    kinesis.destroy();
    const made = deps();
    made.dynamo.destroy();
    made.firehose.destroy();
    made.s3.destroy();
  }
}

async function redriveAws(
  flags: Parameters<typeof loadAwsRedriveConfig>[0],
  onResult: RedriveOptions['onResult'],
): Promise<RedriveSummary> {
  let config: ReturnType<typeof loadAwsRedriveConfig>;
  try {
    config = loadAwsRedriveConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const sqs = createSqsClient(config.aws);
  const kinesis = createKinesisClient(config.aws);
  const lambda = createLambdaClient(config.aws);
  try {
    return await redrive({
      dlq: sqsDlqSource(sqs, config.queueUrl),
      reader: kinesisRangeReader(kinesis),
      transform: lambdaTransformer(lambda, config.functionName),
      streamName: config.streamName,
      invokeIdentityArn: REDRIVE_IDENTITY,
      maxEventBytes: KINESIS_EVENT_RECORDS_MAX_BYTES,
      ...(onResult ? { onResult } : {}),
    });
  } catch (err) {
    throw new CliError(`cannot redrive ${config.queueUrl}: ${describeAwsError(err)}`, { cause: err });
  } finally {
    for (const client of [sqs, kinesis, lambda]) client.destroy();
  }
}

/** An SDK error as one line: credentials and denied access are the usual ones. */
function describeAwsError(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  if (e?.name === 'CredentialsProviderError')
    return 'no AWS credentials (set AWS_PROFILE or run `aws sso login`)';
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

/** One message's line: its status, where it points, and how many records or why not. */
export function formatResult(r: MessageResult): string {
  const where = r.shard_id ? `${r.shard_id} ${r.start_sequence_number}..${r.end_sequence_number}` : '';
  const what = r.status === REDRIVE_STATUS.redriven ? `${plural(r.records, 'record')} stored` : r.reason;
  return `${r.status.padEnd(16)} ${r.id}  ${where}${where ? ': ' : ''}${what}`;
}

export function formatSummary(s: RedriveSummary): string {
  if (s.messages === 0) return 'the DLQ is empty: nothing to redrive';
  return (
    `${plural(s.messages, 'message')}: ${formatCount(s.redriven)} redriven (${plural(s.records, 'record')}), ` +
    `${formatCount(s.out_of_retention)} out of retention, ${formatCount(s.failed)} failed`
  );
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** The transformer's warnings on stderr, so that stdout keeps the results (and --json its JSON). */
function stderrLog(part: string): Log {
  const line = (message: string, fields?: Record<string, unknown>) =>
    console.error(
      `${part}: ${message}${fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''}`,
    );
  return { info: () => {}, warn: line, error: line };
}
