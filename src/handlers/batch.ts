import type { Context } from 'aws-lambda';
import { type BatchDeps, createBatchDeps } from '../batch/aws/deps.js';
import { type BatchEvent, type BatchResult, runBatchStep } from '../batch/aws/steps.js';
import { loadBatchConfig } from '../config/batch.js';
import { once } from '../config/env.js';
import { asLog, logger } from './logger.js';

/**
 * The batch load's steps, invoked by its state machine (resources/batch.yml): `plan` when an upload lands
 * under `incoming/` in the raw bucket, `clean` once per byte range (in parallel), `load` into Redshift,
 * and `fail` to record why a load stopped. A step that throws is retried or failed by the state machine.
 */
export function createBatchHandler(getDeps: () => BatchDeps) {
  return (event: BatchEvent, context?: Context): Promise<BatchResult> => {
    if (context) logger.addContext(context);
    return runBatchStep(event, getDeps());
  };
}

/** Configuration and clients are made on the first invocation and kept for the container's life. */
export const handler = createBatchHandler(
  once(() => createBatchDeps(loadBatchConfig(process.env), asLog(logger))),
);
