import type { Rejection } from '../core/clean.js';

/**
 * One quarantine record as written to `quarantine.ndjson` (`ecomflow clean`) and under the quarantine prefix
 * (the batch Lambda). Its own module so the Lambda bundle does not pull in the CLI's clean-to-dir code and
 * its Parquet worker.
 */
export function quarantineRecord(rejection: Rejection, source: string): string {
  const { line, reason, field, message, raw } = rejection;
  return `${JSON.stringify({ source, line, reason, field, message, raw })}\n`;
}
