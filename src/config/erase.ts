import { type AwsConfig, awsConfig, ENV, type TablesConfig } from './aws.js';
import { type Env, read, requireVars } from './env.js';
import type { RedshiftTarget } from './redshift.js';
import { readRedshiftTarget, readRefreshTimeoutMs } from './refresh.js';
import { parseLakeYears } from './transform.js';

/** The erase function's configuration (resources/functions/erase.yml sets it). */
export interface EraseConfig {
  aws: AwsConfig;
  tables: TablesConfig;
  lake: { bucket: string; prefix: string };
  /** The years partition projection covers: the days the lake step may rewrite. */
  lakeYears: { first: number; last: number };
  /** Where the erasure records go (`erasures/<id>.json`): the raw bucket. */
  recordBucket: string;
  /** The Secrets Manager secret whose string is the key of the customer hash (docs/erasure.md, "The key"). */
  keySecretArn: string;
  redshift: RedshiftTarget;
  /** How long the marts' refresh after the re-keying may take. */
  refreshTimeoutMs: number;
}

export const ERASE_VARS = [
  ENV.INVOICES_TABLE,
  ENV.CUSTOMERS_TABLE,
  ENV.LAKE_BUCKET,
  ENV.LAKE_PREFIX,
  ENV.ERASURE_RECORD_BUCKET,
  ENV.ERASURE_KEY_SECRET_ARN,
] as const;

/**
 * @throws ConfigError naming every missing variable
 * @example loadEraseConfig({ INVOICES_TABLE: 'i', CUSTOMERS_TABLE: 'c', LAKE_BUCKET: 'l', LAKE_PREFIX: 'lake/invoice_lines/', ERASURE_RECORD_BUCKET: 'r', ERASURE_KEY_SECRET_ARN: 'arn:…', REDSHIFT_DATABASE: 'dev', REDSHIFT_SECRET_ARN: 'arn:…', REDSHIFT_WORKGROUP: 'w' })
 */
export function loadEraseConfig(env: Env): EraseConfig {
  const v = requireVars(env, ERASE_VARS, 'erase');
  const prefix = v.LAKE_PREFIX.replace(/^\/+/, '');
  return {
    aws: awsConfig(env),
    tables: { invoices: v.INVOICES_TABLE, customers: v.CUSTOMERS_TABLE },
    lake: { bucket: v.LAKE_BUCKET, prefix: prefix.endsWith('/') ? prefix : `${prefix}/` },
    lakeYears: parseLakeYears(read(env, ENV.LAKE_PROJECTION_YEARS)),
    recordBucket: v.ERASURE_RECORD_BUCKET,
    keySecretArn: v.ERASURE_KEY_SECRET_ARN,
    redshift: readRedshiftTarget(env, 'erase'),
    refreshTimeoutMs: readRefreshTimeoutMs(env, 'erase'),
  };
}
