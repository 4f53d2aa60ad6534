import type { Rejection } from '../core/clean.js';
import { quarantineRecord } from '../core/quarantine.js';

/**
 * One quarantine line, as written to `quarantine.ndjson` (`ecomflow clean`) and under the quarantine prefix
 * (the batch Lambda): the core's record with a batch origin naming the file. Its own module so the Lambda
 * bundle does not pull in the CLI's clean-to-dir code and its Parquet worker.
 */
export function batchQuarantineLine(rejection: Rejection, object: string, at: Date): string {
  return `${JSON.stringify(quarantineRecord(rejection, { source: 'batch', object }, at))}\n`;
}
