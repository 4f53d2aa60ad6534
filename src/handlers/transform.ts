import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { once } from '../config/env.js';
import { loadTransformConfig } from '../config/transform.js';
import { createTransformDeps, type TransformDeps } from '../stream/deps.js';
import { processBatch } from '../stream/process-batch.js';

/**
 * The Kinesis consumer. Its event source mapping must enable `ReportBatchItemFailures`: the response names
 * the earliest record not finished, and Lambda retries from it.
 */
export function createTransformHandler(getDeps: () => TransformDeps) {
  return (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
    processBatch(event.Records, getDeps());
}

/** Configuration and clients are made on the first batch and kept for the container's life. */
export const handler = createTransformHandler(
  once(() => createTransformDeps(loadTransformConfig(process.env))),
);
