import { ENV } from './aws.js';
import { ConfigError, type Env, read } from './env.js';
import { hostTarget, type RedshiftTarget } from './redshift.js';

/**
 * The refresh function's configuration (resources/functions/refresh.yml sets it). Serverless Redshift
 * names a workgroup, a provisioned cluster its identifier: exactly one, given directly or derived from the
 * endpoint host the stack already has for Firehose.
 */
export interface RefreshConfig {
  region: string | undefined;
  target: RedshiftTarget;
  timeoutMs: number;
  /**
   * The customers table the loyalty balances are published to after each refresh (`CUSTOMERS_TABLE`);
   * unset, the refresh publishes nothing and says so in its log.
   */
  customersTable: string | undefined;
  /**
   * The bucket the dashboard snapshot is written to after each refresh (`DASHBOARD_BUCKET`), at
   * DASHBOARD_SNAPSHOT_KEY: the one the API reads the audit result and the snapshot from. Unset, the
   * refresh writes no snapshot and says so in its log.
   */
  dashboardBucket: string | undefined;
}

/** How long a refresh transaction may take when `REFRESH_TIMEOUT_SECONDS` is unset. */
export const DEFAULT_REFRESH_TIMEOUT_SECONDS = 600;

/**
 * @throws ConfigError naming every missing or conflicting variable
 * @example loadRefreshConfig({ REDSHIFT_DATABASE: 'dev', REDSHIFT_SECRET_ARN: 'arn:...', REDSHIFT_WORKGROUP: 'ecomflow' })
 */
export function loadRefreshConfig(env: Env): RefreshConfig {
  const target = readRedshiftTarget(env, 'refresh');
  return {
    region: read(env, ENV.AWS_REGION),
    target,
    timeoutMs: readRefreshTimeoutMs(env, 'refresh'),
    customersTable: read(env, ENV.CUSTOMERS_TABLE),
    dashboardBucket: read(env, ENV.DASHBOARD_BUCKET),
  };
}

/**
 * `REFRESH_TIMEOUT_SECONDS` in milliseconds, DEFAULT_REFRESH_TIMEOUT_SECONDS when unset.
 * @throws ConfigError when it is not a positive whole number
 */
export function readRefreshTimeoutMs(env: Env, who: string): number {
  const timeoutText = read(env, ENV.REFRESH_TIMEOUT_SECONDS);
  const timeoutSeconds = timeoutText === undefined ? DEFAULT_REFRESH_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new ConfigError(
      `${who}: ${ENV.REFRESH_TIMEOUT_SECONDS} must be a positive whole number of seconds, not "${timeoutText}"`,
      [],
    );
  }
  return timeoutSeconds * 1000;
}

/**
 * The Redshift target a function connects to through the Data API: the database, the secret, and exactly
 * one of a workgroup (serverless) or a cluster (provisioned), named directly or read from the endpoint host.
 *
 * @throws ConfigError naming every missing or conflicting variable
 */
export function readRedshiftTarget(env: Env, who: string): RedshiftTarget {
  const database = read(env, ENV.REDSHIFT_DATABASE);
  const secretArn = read(env, ENV.REDSHIFT_SECRET_ARN);
  const host = hostTarget(read(env, ENV.REDSHIFT_HOST));
  const explicitWorkgroup = read(env, ENV.REDSHIFT_WORKGROUP);
  const explicitCluster = read(env, ENV.REDSHIFT_CLUSTER_ID);
  // A workgroup or cluster named directly wins over the host; the host is only read when neither is.
  const explicit = explicitWorkgroup || explicitCluster;
  const workgroupName = explicitWorkgroup ?? (explicit ? undefined : host.workgroupName);
  const clusterIdentifier = explicitCluster ?? (explicit ? undefined : host.clusterIdentifier);
  const missing: string[] = [
    ...(database ? [] : [ENV.REDSHIFT_DATABASE]),
    ...(secretArn ? [] : [ENV.REDSHIFT_SECRET_ARN]),
  ];
  if (!workgroupName && !clusterIdentifier) {
    missing.push(`${ENV.REDSHIFT_WORKGROUP}, ${ENV.REDSHIFT_CLUSTER_ID} or a Redshift ${ENV.REDSHIFT_HOST}`);
  }
  if (missing.length > 0) {
    throw new ConfigError(`${who}: missing environment variable(s) ${missing.join(', ')}`, missing);
  }
  if (workgroupName && clusterIdentifier) {
    throw new ConfigError(
      `${who}: set ${ENV.REDSHIFT_WORKGROUP} (serverless) or ${ENV.REDSHIFT_CLUSTER_ID} (provisioned), not both`,
      [],
    );
  }
  return { database: database!, secretArn: secretArn!, workgroupName, clusterIdentifier };
}
