import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { once } from '../config/env.js';
import { loadTransformConfig } from '../config/transform.js';
import { createTransformDeps, type TransformDeps } from '../stream/deps.js';
import { processBatch } from '../stream/process-batch.js';
import { asLog, logger } from './logger.js';

/**
 * The Kinesis consumer. Its event source mapping must enable `ReportBatchItemFailures`: the response names
 * the earliest record not finished, and Lambda retries from it.
 */
export function createTransformHandler(getDeps: () => TransformDeps) {
  return (event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> => {
    if (context) logger.addContext(context);
    return processBatch(event.Records, getDeps());
  };
}

/** Configuration and clients are made on the first batch and kept for the container's life. */
export const handler = createTransformHandler(
  once(() => createTransformDeps(loadTransformConfig(process.env), asLog(logger))),
);
