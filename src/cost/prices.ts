/**
 * The prices the cost model uses: one home, with the region and date they are for and where each came from.
 *
 * Region us-east-1, list prices as of 2026-12 for the first pricing tier. The stored copies searched here hold
 * the pricing pages' structure (what is billed, and how it is rounded) but not every current figure, so each
 * figure says which it is: `source` is the page a user should check, and `checked` says whether the figure
 * was seen in a stored copy or is the list price from memory. Re-check them before quoting a budget.
 */
export interface Price {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
  readonly checked: 'stored copy' | 'from memory';
}

const FIREHOSE = 'https://aws.amazon.com/firehose/pricing/';
export const PRICES_AS_OF = { region: 'us-east-1', date: '2026-12' } as const;

export const PRICES = {
  apiGatewayRestRequest: {
    usd: 3.5 / 1e6,
    per: 'REST API request (first 333 million a month)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    checked: 'from memory',
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    per: 'Lambda invocation',
    source: 'https://aws.amazon.com/lambda/pricing/',
    checked: 'from memory',
  },
  lambdaGbSecond: {
    usd: 0.0000166667,
    per: 'Lambda GB-second (x86)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    checked: 'from memory',
  },
  kinesisOnDemandStreamHour: {
    usd: 0.04,
    per: 'on-demand stream-hour',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    checked: 'from memory',
  },
  kinesisShardHour: {
    usd: 0.015,
    per: 'provisioned shard-hour',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    checked: 'from memory',
  },
  kinesisOnDemandIngestGb: {
    usd: 0.08,
    per: 'GB written, on demand (each record rounded up to 1 KB)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    checked: 'from memory',
  },
  kinesisOnDemandRetrievalGb: {
    usd: 0.04,
    per: 'GB read, on demand, per consumer',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    checked: 'from memory',
  },
  firehoseIngestGb: {
    usd: 0.029,
    per: 'GB ingested, each record rounded up to 5 KB (first 500 TB)',
    source: FIREHOSE,
    checked: 'stored copy',
  },
  firehoseFormatConversionGb: {
    usd: 0.018,
    per: 'GB converted to Parquet, in 5 KB increments',
    source: FIREHOSE,
    checked: 'stored copy',
  },
  firehoseDynamicPartitioningGb: {
    usd: 0.02,
    per: 'GB delivered with dynamic partitioning',
    source: FIREHOSE,
    checked: 'stored copy',
  },
  firehoseDynamicPartitioningObject: {
    usd: 0.005 / 1000,
    per: 'S3 object delivered with dynamic partitioning',
    source: FIREHOSE,
    checked: 'stored copy',
  },
  firehoseJqHour: {
    usd: 0.07,
    per: 'hour of JQ processing',
    source: FIREHOSE,
    checked: 'stored copy',
  },
  s3Put: {
    usd: 0.005 / 1000,
    per: 'S3 Standard PUT',
    source: 'https://aws.amazon.com/s3/pricing/',
    checked: 'from memory',
  },
  s3GbMonth: {
    usd: 0.023,
    per: 'GB-month of S3 Standard',
    source: 'https://aws.amazon.com/s3/pricing/',
    checked: 'from memory',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625 / 1e6,
    per: 'on-demand write request unit (1 KB)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    checked: 'from memory',
  },
  dynamoGbMonth: {
    usd: 0.25,
    per: 'GB-month of table storage',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    checked: 'from memory',
  },
  athenaTbScanned: {
    usd: 5,
    per: 'TB scanned, at least 10 MB a query',
    source: 'https://aws.amazon.com/athena/pricing/',
    checked: 'from memory',
  },
  cloudwatchLogsIngestGb: {
    usd: 0.5,
    per: 'GB of logs ingested',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    checked: 'from memory',
  },
  cloudwatchAlarmMonth: {
    usd: 0.1,
    per: 'standard alarm-month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    checked: 'from memory',
  },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;
