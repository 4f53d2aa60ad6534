import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { Context } from 'aws-lambda';
import { createRedshiftDataClient } from '../adapters/redshift-data.js';
import { redshiftRunner } from '../analytics/redshift-runner.js';
import { type RefreshResult, refreshWarehouse } from '../analytics/refresh.js';
import { once } from '../config/env.js';
import { loadRefreshConfig, type RefreshConfig } from '../config/refresh.js';
import { logger } from './logger.js';

export interface RefreshDeps {
  config: RefreshConfig;
  client: RedshiftDataClient;
}

/**
 * The scheduled refresh (EventBridge, every 15 minutes by default): rebuilds staging and the marts on
 * Redshift with the SQL in warehouse/. A failure throws, so the invocation is marked failed, retried by
 * the asynchronous invoke, and counted in the function's Errors metric.
 */
export function createRefreshHandler(getDeps: () => RefreshDeps, log: Logger = logger) {
  return async (_event?: unknown, context?: Context): Promise<RefreshResult> => {
    if (context) log.addContext(context);
    const { config, client } = getDeps();
    const result = await refreshWarehouse(
      redshiftRunner(client, config.target, { timeoutMs: config.timeoutMs }),
    );
    log.info('warehouse refreshed', { ...result });
    return result;
  };
}

/** Configuration and the client are made on the first invocation and kept for the container's life. */
export const handler = createRefreshHandler(
  once(() => {
    const config = loadRefreshConfig(process.env);
    return { config, client: createRedshiftDataClient({ region: config.region }) };
  }),
);
