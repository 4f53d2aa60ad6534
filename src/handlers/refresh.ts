import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { batchWrite, createDocumentClient } from '../adapters/dynamodb.js';
import { createRedshiftDataClient, queryRows } from '../adapters/redshift-data.js';
import { createS3Client } from '../adapters/s3.js';
import { type PublishResult, publishLoyaltyBalances } from '../analytics/loyalty-publish.js';
import { redshiftRunner } from '../analytics/redshift-runner.js';
import { type RefreshResult, refreshWarehouse } from '../analytics/refresh.js';
import { once } from '../config/env.js';
import { loadRefreshConfig, type RefreshConfig } from '../config/refresh.js';
import { DASHBOARD_SNAPSHOT_KEY } from '../dashboard/contract.js';
import {
  buildDashboardSnapshot,
  readDashboardSnapshot,
  writeDashboardSnapshot,
} from '../dashboard/snapshot.js';
import { logger } from './logger.js';

export interface RefreshDeps {
  config: RefreshConfig;
  client: RedshiftDataClient;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
}

/**
 * The scheduled refresh (EventBridge, every 15 minutes by default): rebuilds staging and the marts on
 * Redshift with the SQL in warehouse/, then publishes the loyalty balances to the customers table, then
 * writes the dashboard snapshot (src/dashboard/snapshot.ts) to S3, so that the dashboard is read from S3 and
 * never waits on Redshift within API Gateway's 29 s. A failure throws, so the invocation is marked failed,
 * retried by the asynchronous invoke, and counted in the function's Errors metric; a publish or snapshot
 * that failed is repeated whole by the next run.
 */
export function createRefreshHandler(getDeps: () => RefreshDeps, log: Logger = logger) {
  return async (
    _event?: unknown,
    context?: Context,
  ): Promise<RefreshResult & { loyalty?: PublishResult; snapshot?: { bucket: string; key: string } }> => {
    if (context) log.addContext(context);
    const { config, client, dynamo, s3 } = getDeps();
    const result = await refreshWarehouse(
      redshiftRunner(client, config.target, { timeoutMs: config.timeoutMs }),
    );
    log.info('warehouse refreshed', { ...result });
    const read = (sql: string) => queryRows(client, config.target, sql, { timeoutMs: config.timeoutMs });
    const table = config.customersTable;
    let loyalty: PublishResult | undefined;
    if (table) {
      loyalty = await publishLoyaltyBalances(
        read,
        // Balance items are on the customers table only; the refresh is given no other table name.
        (writes) => batchWrite(dynamo, { invoices: table, customers: table }, writes),
      );
      log.info('loyalty balances published', { ...loyalty, table });
    } else {
      log.warn('loyalty balances not published: CUSTOMERS_TABLE is not set');
    }
    const bucket = config.dashboardBucket;
    if (!bucket) {
      log.warn('dashboard snapshot not written: DASHBOARD_BUCKET is not set');
      return { ...result, ...(loyalty ? { loyalty } : {}) };
    }
    const previous = await readDashboardSnapshot(s3, bucket);
    const snapshot = await buildDashboardSnapshot(read, new Date(), previous);
    await writeDashboardSnapshot(s3, bucket, snapshot);
    log.info('dashboard snapshot written', {
      bucket,
      key: DASHBOARD_SNAPSHOT_KEY,
      refreshedAt: snapshot.refreshedAt,
      dailyCountryRevenue: snapshot.dailyCountryRevenue.length,
      productCountrySales: snapshot.productCountrySales.length,
    });
    return { ...result, ...(loyalty ? { loyalty } : {}), snapshot: { bucket, key: DASHBOARD_SNAPSHOT_KEY } };
  };
}

/** Configuration and the clients are made on the first invocation and kept for the container's life. */
export const handler = createRefreshHandler(
  once(() => {
    const config = loadRefreshConfig(process.env);
    return {
      config,
      client: createRedshiftDataClient({ region: config.region }),
      dynamo: createDocumentClient({ region: config.region, endpoints: {} }),
      s3: createS3Client({ region: config.region, endpoints: {} }),
    };
  }),
);
