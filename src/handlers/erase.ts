import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb.js';
import { s3LakeStore } from '../adapters/lake-store.js';
import { createRedshiftDataClient } from '../adapters/redshift-data.js';
import { redshiftErasureWarehouse } from '../adapters/redshift-erasure.js';
import { createS3Client } from '../adapters/s3.js';
import { writeJson } from '../adapters/s3-objects.js';
import { createSecretsClient, secretBytes } from '../adapters/secrets.js';
import { redshiftRunner } from '../analytics/redshift-runner.js';
import { refreshWarehouse } from '../analytics/refresh.js';
import { once } from '../config/env.js';
import { type EraseConfig, loadEraseConfig } from '../config/erase.js';
import { parseErasureRequest } from '../core/erasure.js';
import { type ErasureResult, type ErasureStores, eraseCustomer } from '../erasure/erase.js';
import { logger } from './logger.js';

export interface EraseDeps {
  config: EraseConfig;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
  redshift: RedshiftDataClient;
  /** The key of the customer hash, read once from its secret and kept for the container's life. */
  key: () => Promise<Uint8Array>;
}

/** The erasure's stores on AWS: the tables, the lake bucket, Redshift through the Data API, the raw bucket. */
export async function awsErasureStores(deps: EraseDeps): Promise<ErasureStores> {
  const { config } = deps;
  const poll = { timeoutMs: config.refreshTimeoutMs };
  return {
    dynamodb: { doc: deps.dynamo, tables: config.tables },
    lake: {
      store: s3LakeStore(deps.s3, config.lake.bucket, config.lake.prefix, config.lakeYears),
      prefix: config.lake.prefix,
    },
    warehouse: redshiftErasureWarehouse(deps.redshift, config.redshift, poll),
    refresh: () => refreshWarehouse(redshiftRunner(deps.redshift, config.redshift, poll)),
    writeRecord: async (key, record) => {
      await writeJson(deps.s3, config.recordBucket, key, record);
    },
    key: await deps.key(),
  };
}

/**
 * The erase function: the API's DELETE /customers/{id} queues its request as an asynchronous invocation
 * (docs/erasure.md, "The route"). A failure throws, so Lambda runs it again (up to twice), which goes on
 * from the step that failed; the logs name the erasure id and the step, never the customer id.
 */
export function createEraseHandler(getDeps: () => EraseDeps, log: Logger = logger) {
  return async (event: unknown, context?: Context): Promise<ErasureResult> => {
    if (context) log.addContext(context);
    const request = parseErasureRequest(event);
    const stores = await awsErasureStores(getDeps());
    const result = await eraseCustomer(stores, request.customerId, {
      erasureId: request.erasureId,
      requestedAt: request.requestedAt,
    });
    log.info('customer erased', {
      erasureId: request.erasureId,
      record: result.recordKey,
      touched: result.record.touched,
      ms: Math.round(result.ms),
    });
    return result;
  };
}

/** The value of the first call that succeeds, kept; a failed call is tried again on the next. */
function retriedOnce<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}

/** Configuration and the clients are made on the first invocation and kept for the container's life. */
export const handler = createEraseHandler(
  once(() => {
    const config = loadEraseConfig(process.env);
    const secrets = createSecretsClient(config.aws);
    return {
      config,
      dynamo: createDocumentClient(config.aws),
      s3: createS3Client(config.aws),
      redshift: createRedshiftDataClient({ region: config.aws.region }),
      key: retriedOnce(() => secretBytes(secrets, config.keySecretArn)),
    };
  }),
);
