import type { AthenaClient } from '@aws-sdk/client-athena';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { athenaQuery, createAthenaClient } from '../adapters/athena.js';
import { createDocumentClient, scanLineFigures } from '../adapters/dynamodb.js';
import { createRedshiftDataClient, queryRows } from '../adapters/redshift-data.js';
import { createS3Client } from '../adapters/s3.js';
import { writeJson } from '../adapters/s3-objects.js';
import { createSqsClient, queueDepth } from '../adapters/sqs.js';
import { type LakeQuery, loadLakeQuery, loadWarehouseQuery } from '../analytics/models.js';
import { AUDIT_RESULT_KEY, type AuditReport, type DayRow } from '../audit/compare.js';
import { type AuditSources, runAudit } from '../audit/run.js';
import { type AuditConfig, loadAuditConfig } from '../config/audit.js';
import { once } from '../config/env.js';
import { logger } from './logger.js';

export interface AuditDeps {
  config: AuditConfig;
  athena: AthenaClient;
  redshift: RedshiftDataClient;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
  sqs: SQSClient;
  /** Where the metric line goes: Lambda sends stdout to CloudWatch Logs, which extracts it. */
  emit?: (line: string) => void;
}

/** The metric the audit alarm watches (resources/alarms.yml), in the embedded metric format. */
export const AUDIT_METRIC = { namespace: 'ecomflow', name: 'AuditDisagreeingDays' } as const;

/** The audit on AWS: Athena for the lake and the quarantine, the Data API for Redshift, a Scan of DynamoDB. */
export function awsAuditSources(deps: AuditDeps): AuditSources {
  const { config } = deps;
  const lakeQuery = async (name: LakeQuery) =>
    athenaQuery(deps.athena, config.athena, (await loadLakeQuery(name)).sql);
  return {
    lakeDays: async () => (await lakeQuery('audit_days')) as unknown as DayRow[],
    warehouseDays: async () =>
      (await queryRows(
        deps.redshift,
        config.redshift,
        await loadWarehouseQuery('audit/invoice_days'),
      )) as unknown as DayRow[],
    dynamodbLines: () => scanLineFigures(deps.dynamo, config.invoicesTable),
    quarantine: async () =>
      (await lakeQuery('quarantine_by_reason')) as unknown as {
        source: string;
        reason: string;
        quarantined: string;
      }[],
    pending: async () => {
      const [unrefreshed] = await queryRows(
        deps.redshift,
        config.redshift,
        await loadWarehouseQuery('audit/unrefreshed'),
      );
      return {
        // Firehose shows no buffer: the alarm waits out the delivery window instead (resources/alarms.yml).
        firehoseLines: null,
        deadLetters: await queueDepth(deps.sqs, config.dlqUrl),
        warehouseUnrefreshed: Number(unrefreshed?.['unrefreshed'] ?? 0),
      };
    },
  };
}

/**
 * The scheduled audit (EventBridge): compares the stores per invoice day, keeps the result for GET /status,
 * and reports the number of disagreeing days as a metric, which the audit alarm watches.
 */
export function createAuditHandler(getDeps: () => AuditDeps) {
  return async (_event?: unknown, context?: Context): Promise<AuditReport> => {
    if (context) logger.addContext(context);
    const deps = getDeps();
    const report = await runAudit(awsAuditSources(deps));
    await writeJson(deps.s3, deps.config.auditBucket, AUDIT_RESULT_KEY, report);
    (deps.emit ?? ((line: string) => process.stdout.write(`${line}\n`)))(
      metricLine(deps.config.stage, report.disagreements.length, new Date(report.ranAt)),
    );
    logger.info('stores audited', {
      agrees: report.agrees,
      days: report.days,
      disagreeing: report.disagreements.map((d) => d.day),
      pending: report.pending,
    });
    return report;
  };
}

/**
 * One CloudWatch embedded-metric-format record: CloudWatch Logs turns it into the metric, so the function
 * needs no cloudwatch:PutMetricData.
 */
export function metricLine(stage: string, disagreeingDays: number, at: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: AUDIT_METRIC.namespace,
          Dimensions: [['Stage']],
          Metrics: [{ Name: AUDIT_METRIC.name, Unit: 'Count' }],
        },
      ],
    },
    Stage: stage,
    [AUDIT_METRIC.name]: disagreeingDays,
  });
}

/** Configuration and clients are made on the first invocation and kept for the container's life. */
export const handler = createAuditHandler(
  once(() => {
    const config = loadAuditConfig(process.env);
    const aws = { region: config.region, endpoints: {} };
    return {
      config,
      athena: createAthenaClient(aws),
      redshift: createRedshiftDataClient(aws),
      dynamo: createDocumentClient(aws),
      s3: createS3Client(aws),
      sqs: createSqsClient(aws),
    };
  }),
);
