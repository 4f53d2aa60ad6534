import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { batchWrite, createDocumentClient } from '../adapters/dynamodb.js';
import { createRedshiftDataClient, queryRows } from '../adapters/redshift-data.js';
import { type PublishResult, publishLoyaltyBalances } from '../analytics/loyalty-publish.js';
import { redshiftRunner } from '../analytics/redshift-runner.js';
import { type RefreshResult, refreshWarehouse } from '../analytics/refresh.js';
import { once } from '../config/env.js';
import { loadRefreshConfig, type RefreshConfig } from '../config/refresh.js';
import { logger } from './logger.js';

export interface RefreshDeps {
  config: RefreshConfig;
  client: RedshiftDataClient;
  dynamo: DynamoDBDocumentClient;
}

/**
 * The scheduled refresh (EventBridge, every 15 minutes by default): rebuilds staging and the marts on
 * Redshift with the SQL in warehouse/, then publishes the loyalty balances to the customers table. A
 * failure throws, so the invocation is marked failed, retried by the asynchronous invoke, and counted in
 * the function's Errors metric; a publish that failed is repeated whole by the next run.
 */
export function createRefreshHandler(getDeps: () => RefreshDeps, log: Logger = logger) {
  return async (
    _event?: unknown,
    context?: Context,
  ): Promise<RefreshResult & { loyalty?: PublishResult }> => {
    if (context) log.addContext(context);
    const { config, client, dynamo } = getDeps();
    const result = await refreshWarehouse(
      redshiftRunner(client, config.target, { timeoutMs: config.timeoutMs }),
    );
    log.info('warehouse refreshed', { ...result });
    const table = config.customersTable;
    if (!table) {
      log.warn('loyalty balances not published: CUSTOMERS_TABLE is not set');
      return result;
    }
    const loyalty = await publishLoyaltyBalances(
      (sql) => queryRows(client, config.target, sql, { timeoutMs: config.timeoutMs }),
      // Balance items are on the customers table only; the refresh is given no other table name.
      (writes) => batchWrite(dynamo, { invoices: table, customers: table }, writes),
    );
    log.info('loyalty balances published', { ...loyalty, table });
    return { ...result, loyalty };
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
    };
  }),
);
