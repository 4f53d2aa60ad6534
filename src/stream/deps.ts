import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb.js';
import { createFirehoseClient } from '../adapters/firehose.js';
import type { RetryOptions } from '../adapters/retry.js';
import { createS3Client } from '../adapters/s3.js';
import type { TransformConfig } from '../config/transform.js';
import type { Log } from '../log.js';

/** What the stream consumer uses: its configuration and one client per service. */
export interface TransformDeps {
  config: TransformConfig;
  dynamo: DynamoDBDocumentClient;
  firehose: FirehoseClient;
  s3: S3Client;
  /** Overrides of the adapters' retry settings (tests make them fast). */
  retry?: Partial<RetryOptions>;
  now?: () => Date;
  /** Where failures that are reported back to Lambda are also logged. */
  log: Log;
}

export function createTransformDeps(config: TransformConfig, log: Log): TransformDeps {
  return {
    config,
    log,
    dynamo: createDocumentClient(config.aws),
    firehose: createFirehoseClient(config.aws),
    s3: createS3Client(config.aws),
  };
}
