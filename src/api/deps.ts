import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb.js';
import { createKinesisClient } from '../adapters/kinesis.js';
import { createLambdaClient, invokeAsync } from '../adapters/lambda.js';
import type { RetryOptions } from '../adapters/retry.js';
import { createS3Client } from '../adapters/s3.js';
import type { ApiConfig } from '../config/api.js';
import { versionClock } from '../core/changes.js';
import { type ErasureRequest, erasureRequestEvent } from '../core/erasure.js';

/** What the API's routes use: its configuration and one client per service. */
export interface ApiDeps {
  config: ApiConfig;
  kinesis: KinesisClient;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
  /** Overrides of the adapters' retry settings (tests make them fast). */
  retry?: Partial<RetryOptions>;
  /** The clock, for quarantine keys. */
  now?: () => Date;
  /** The next write version (src/core/changes.ts): one clock for the process, so versions never repeat. */
  version: () => number;
  /**
   * Starts a customer erasure and returns at once (DELETE /customers/{id}); the local stack runs it in
   * process. Unset where no erasure runner is deployed: the route then answers 501.
   */
  requestErasure?: ErasureRequester;
}

/** Starts an erasure that runs after the answer: an erasure takes longer than API Gateway waits. */
export type ErasureRequester = (request: ErasureRequest) => Promise<void>;

/** Creates the clients once for a configuration; the handler keeps the result for the container's life. */
export function createApiDeps(config: ApiConfig): ApiDeps {
  const eraseFunction = config.eraseFunction;
  return {
    config,
    kinesis: createKinesisClient(config.aws),
    dynamo: createDocumentClient(config.aws),
    s3: createS3Client(config.aws),
    version: versionClock(Date.now),
    ...(eraseFunction
      ? { requestErasure: erasureInvoker(createLambdaClient(config.aws), eraseFunction) }
      : {}),
  };
}

/**
 * DELETE /customers/{id} on AWS: the erase function invoked asynchronously with the request (Lambda
 * queues the event and answers 202; the function runs after the API has answered, and is retried by
 * Lambda up to twice if it fails: every step of an erasure is safe to repeat).
 */
export function erasureInvoker(lambda: LambdaClient, functionName: string): ErasureRequester {
  return (request) => invokeAsync(lambda, functionName, erasureRequestEvent(request));
}
