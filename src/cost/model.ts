/**
 * The monthly cost of the data path on AWS, per service, from the service configuration, the measured
 * record sizes and packing, and the assumptions below (each with its reason). Pure: no I/O.
 */
import type { Measurements } from './measurements.js';
import { PRICES } from './prices.js';
import type { ServiceConfig } from './service-config.js';

/** What the model cannot measure here, with why each value was chosen. */
export const ASSUMPTIONS = {
  /** A till posts one invoice a request: the real data has 541,909 lines in 25,900 invoices. */
  linesPerRequest: 20.9,
  /** The API function's billed time per request (parse, clean, PutRecords); not measured on AWS. */
  apiMsPerRequest: 60,
  /** The transformer's billed time per line (clean, DynamoDB, Firehose, amortised over a batch). */
  transformMsPerLine: 0.5,
  /** Lines per transformer invocation: batches fill to 500 records under load, less when quiet. */
  transformLinesPerInvocation: 2_000,
  /** The refresh function waits on Redshift; its billed seconds per run. */
  refreshSecondsPerRun: 20,
  /** Analyst queries over the Athena views a month (ten a working day); dashboards read a snapshot. */
  athenaQueriesPerMonth: 200,
  /** Months of data a mart query scans (the views read the whole table). */
  monthsScanned: 12,
  /** The share of a line's Parquet bytes a mart query reads: about 4 of the 12 columns. */
  columnShareScanned: 0.35,
  /** Log bytes per Lambda invocation (the platform's START/END/REPORT lines and Powertools' warnings). */
  logBytesPerInvocation: 600,
  /** Bytes of a DynamoDB item, so each write is one write request unit (under 1 KB). */
  dynamoItemBytes: 350,
  /** Months of data kept in DynamoDB and the lake when storage is priced. */
  monthsStored: 12,
  /** Hours of JQ processing per GB the lake stream partitions; AWS does not publish a rate. */
  jqHoursPerGb: 0.01,
  /** Day partitions a lake flush touches when lines arrive live (today's, now and then yesterday's). */
  partitionsPerFlush: 1,
} as const;

export type Packing = 'unpacked' | 'packed';

export interface ServiceCost {
  service: string;
  monthlyUsd: number;
  /** How the figure is made, for the reader. */
  basis: string;
}

export interface CostEstimate {
  linesPerMonth: number;
  packing: Packing;
  services: ServiceCost[];
  totalUsd: number;
  perMillionLinesUsd: number;
}

const GB = 1e9;
const HOURS_A_MONTH = 730;
const SECONDS_A_MONTH = HOURS_A_MONTH * 3600;

export function estimateCost(
  config: ServiceConfig,
  m: Measurements,
  linesPerMonth: number,
  packing: Packing,
): CostEstimate {
  const a = ASSUMPTIONS;
  const p = PRICES;
  const scale = linesPerMonth / m.lines;
  const services: ServiceCost[] = [];
  const add = (service: string, monthlyUsd: number, basis: string) =>
    services.push({ service, monthlyUsd, basis });
  const gbSeconds = (fn: string, seconds: number) => ((config.memoryMb[fn] ?? 1024) / 1024) * seconds;

  const requests = linesPerMonth / a.linesPerRequest;
  add(
    'API Gateway (REST)',
    requests * p.apiGatewayRestRequest.usd,
    `${fmt(requests)} requests of ${a.linesPerRequest} lines`,
  );

  const transformInvocations = linesPerMonth / a.transformLinesPerInvocation;
  const lambdaSeconds = {
    api: gbSeconds('api', (requests * a.apiMsPerRequest) / 1000),
    transform: gbSeconds('transform', (linesPerMonth * a.transformMsPerLine) / 1000),
    refresh: gbSeconds('refresh', config.refreshPerMonth * a.refreshSecondsPerRun),
  };
  const invocations = requests + transformInvocations + config.refreshPerMonth;
  const gbs = lambdaSeconds.api + lambdaSeconds.transform + lambdaSeconds.refresh;
  add(
    'Lambda (api, transform, refresh)',
    invocations * p.lambdaRequest.usd + gbs * p.lambdaGbSecond.usd,
    `${fmt(invocations)} invocations, ${fmt(gbs)} GB-s at ${config.memoryMb['api']}/${config.memoryMb['transform']}/${config.memoryMb['refresh']} MB`,
  );

  const kin = m.kinesis[packing];
  const records = kin.records * scale;
  // On demand, each record is billed rounded up to 1 KB.
  const billedKinesisGb = (records * Math.max(1, Math.ceil(kin.bytes / kin.records / 1024)) * 1024) / GB;
  const kinesisGb = (kin.bytes * scale) / GB;
  const streamHours = config.kinesis.mode === 'ON_DEMAND' ? HOURS_A_MONTH : 0;
  add(
    `Kinesis (${config.kinesis.mode.toLowerCase().replace('_', '-')})`,
    streamHours * p.kinesisOnDemandStreamHour.usd +
      billedKinesisGb * p.kinesisOnDemandIngestGb.usd +
      kinesisGb * p.kinesisOnDemandRetrievalGb.usd,
    `${fmt(records)} records, ${fmt(billedKinesisGb, 2)} GB billed in, ${HOURS_A_MONTH} stream-hours`,
  );

  const fh = m.firehose[packing];
  const billedGb = (fh.billedBytes * scale) / GB;
  let firehoseUsd = 0;
  let objects = 0;
  for (const stream of config.firehose) {
    firehoseUsd += billedGb * p.firehoseIngestGb.usd;
    if (stream.formatConversion) firehoseUsd += billedGb * p.firehoseFormatConversionGb.usd;
    const flushes = SECONDS_A_MONTH / stream.intervalSeconds;
    const streamObjects = flushes * (stream.dynamicPartitioning ? a.partitionsPerFlush : 1);
    objects += streamObjects;
    if (stream.dynamicPartitioning) {
      const deliveredGb = (fh.bytes * scale) / GB;
      firehoseUsd +=
        deliveredGb * p.firehoseDynamicPartitioningGb.usd +
        streamObjects * p.firehoseDynamicPartitioningObject.usd +
        deliveredGb * a.jqHoursPerGb * p.firehoseJqHour.usd;
    }
  }
  add(
    'Firehose (lake + warehouse)',
    firehoseUsd,
    `${fmt(billedGb, 2)} GB billed a stream (${fmt(fh.billedBytes / fh.bytes, 2)}× actual), ${config.firehose.length} streams`,
  );

  const lakeGb = (linesPerMonth * a.monthsStored * m.parquet_bytes_per_line) / GB;
  add(
    'S3 (Firehose objects, lake storage)',
    objects * p.s3Put.usd + lakeGb * p.s3GbMonth.usd,
    `${fmt(objects)} objects, ${fmt(lakeGb, 2)} GB stored`,
  );

  // A write to an item the by_stock index projects writes the index too, billed as another write unit.
  const writes = linesPerMonth * (m.dynamodb_items_per_line + m.dynamodb_index_writes_per_line);
  const dynamoGb = (linesPerMonth * m.dynamodb_items_per_line * a.monthsStored * a.dynamoItemBytes) / GB;
  add(
    'DynamoDB (on demand)',
    writes * p.dynamoWriteRequestUnit.usd + dynamoGb * p.dynamoGbMonth.usd,
    `${fmt(writes)} write units (${m.dynamodb_items_per_line} items and ${m.dynamodb_index_writes_per_line} index writes a line), ${fmt(dynamoGb, 1)} GB stored`,
  );

  add('Redshift Data API (refresh)', 0, 'no charge for the API; the workgroup or cluster is excluded');

  const scannedPerQuery = Math.max(
    10e6,
    linesPerMonth * a.monthsScanned * m.parquet_bytes_per_line * a.columnShareScanned,
  );
  add(
    'Athena (mart queries)',
    ((a.athenaQueriesPerMonth * scannedPerQuery) / 1e12) * p.athenaTbScanned.usd,
    `${fmt(a.athenaQueriesPerMonth)} queries of ${fmt(scannedPerQuery / 1e6)} MB`,
  );

  const logGb = (invocations * a.logBytesPerInvocation) / GB;
  add(
    'CloudWatch (logs, alarms)',
    logGb * p.cloudwatchLogsIngestGb.usd + config.alarms * p.cloudwatchAlarmMonth.usd,
    `${fmt(logGb, 2)} GB of logs, ${config.alarms} alarms`,
  );

  const totalUsd = services.reduce((n, s) => n + s.monthlyUsd, 0);
  return { linesPerMonth, packing, services, totalUsd, perMillionLinesUsd: totalUsd / (linesPerMonth / 1e6) };
}

export interface CostWarning {
  code: string;
  message: string;
}

/** Configurations that waste money. */
export function costLint(config: ServiceConfig, m: Measurements, packing: Packing = 'packed'): CostWarning[] {
  const out: CostWarning[] = [];
  const fh = m.firehose[packing];
  const meanRecord = fh.bytes / fh.records;
  if (meanRecord < 5 * 1024) {
    out.push({
      code: 'firehose_small_records',
      message: `Firehose records average ${fmt(meanRecord)} bytes; each is billed as at least 5 KB (${fmt(fh.billedBytes / fh.bytes, 1)}× actual): pack lines into larger records`,
    });
  }
  for (const s of config.firehose) {
    if (s.intervalSeconds < 300 && s.sizeMb >= 64) {
      out.push({
        code: 'firehose_short_buffer',
        message: `${s.stream} flushes every ${s.intervalSeconds} s: up to ${fmt(86_400 / s.intervalSeconds)} objects a day per partition unless ${s.sizeMb} MB fill first; small files cost Athena time and S3 requests (compact them, or buffer longer)`,
      });
    }
  }
  if (config.kinesis.mode === 'PROVISIONED' && config.kinesis.shards > 0) {
    out.push({
      code: 'kinesis_provisioned_shards',
      message: `the stream has ${config.kinesis.shards} provisioned shards billed every hour whether used or not (${fmt(config.kinesis.shards * HOURS_A_MONTH * PRICES.kinesisShardHour.usd, 2)} USD a month): on-demand fits a bursty till load`,
    });
  }
  for (const v of config.vpc) {
    out.push({
      code: 'vpc_on_data_path',
      message: `${v}: a NAT gateway on the data path bills per hour and per GB processed; use VPC endpoints or keep the functions out of a VPC`,
    });
  }
  return out;
}

function fmt(v: number, digits = 0): string {
  return v.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits > 0 ? Math.min(digits, 2) : 0,
  });
}
