import { hostTarget, type RedshiftTarget } from '../adapters/redshift-data.js';
import { ConfigError, type Env } from '../config.js';

/**
 * The refresh function's configuration, read once from its environment (resources/functions/refresh.yml
 * sets it). Serverless Redshift names a workgroup, a provisioned cluster its identifier: exactly one,
 * given directly or derived from the endpoint host the stack already has for Firehose.
 */
export const REFRESH_ENV = {
  /** `<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com` or `<cluster>.<id>.<region>.redshift.amazonaws.com`. */
  REDSHIFT_HOST: 'REDSHIFT_HOST',
  REDSHIFT_DATABASE: 'REDSHIFT_DATABASE',
  REDSHIFT_SECRET_ARN: 'REDSHIFT_SECRET_ARN',
  REDSHIFT_WORKGROUP: 'REDSHIFT_WORKGROUP',
  REDSHIFT_CLUSTER_ID: 'REDSHIFT_CLUSTER_ID',
  /** Optional: how long to wait for a refresh transaction, in seconds (default 600). */
  REFRESH_TIMEOUT_SECONDS: 'REFRESH_TIMEOUT_SECONDS',
  AWS_REGION: 'AWS_REGION',
} as const;

export interface RefreshConfig {
  region: string | undefined;
  target: RedshiftTarget;
  timeoutMs: number;
}

/**
 * @throws ConfigError naming every missing or conflicting variable
 * @example loadRefreshConfig({ REDSHIFT_DATABASE: 'dev', REDSHIFT_SECRET_ARN: 'arn:...', REDSHIFT_WORKGROUP: 'ecomflow' })
 */
export function loadRefreshConfig(env: Env = process.env): RefreshConfig {
  const read = (name: string) => env[name]?.trim() || undefined;
  const database = read(REFRESH_ENV.REDSHIFT_DATABASE);
  const secretArn = read(REFRESH_ENV.REDSHIFT_SECRET_ARN);
  const host = hostTarget(read(REFRESH_ENV.REDSHIFT_HOST));
  const explicit = read(REFRESH_ENV.REDSHIFT_WORKGROUP) || read(REFRESH_ENV.REDSHIFT_CLUSTER_ID);
  const workgroupName = read(REFRESH_ENV.REDSHIFT_WORKGROUP) ?? (explicit ? undefined : host.workgroupName);
  const clusterIdentifier =
    read(REFRESH_ENV.REDSHIFT_CLUSTER_ID) ?? (explicit ? undefined : host.clusterIdentifier);
  const missing: string[] = [
    ...(database ? [] : [REFRESH_ENV.REDSHIFT_DATABASE]),
    ...(secretArn ? [] : [REFRESH_ENV.REDSHIFT_SECRET_ARN]),
  ];
  if (!workgroupName && !clusterIdentifier) {
    missing.push(
      `${REFRESH_ENV.REDSHIFT_WORKGROUP}, ${REFRESH_ENV.REDSHIFT_CLUSTER_ID} or a Redshift ${REFRESH_ENV.REDSHIFT_HOST}`,
    );
  }
  if (missing.length > 0) {
    throw new ConfigError(`refresh: missing environment variable(s) ${missing.join(', ')}`, missing);
  }
  if (workgroupName && clusterIdentifier) {
    throw new ConfigError(
      `refresh: set ${REFRESH_ENV.REDSHIFT_WORKGROUP} (serverless) or ${REFRESH_ENV.REDSHIFT_CLUSTER_ID} (provisioned), not both`,
      [],
    );
  }
  const timeoutText = read(REFRESH_ENV.REFRESH_TIMEOUT_SECONDS);
  const timeoutSeconds = timeoutText === undefined ? 600 : Number(timeoutText);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new ConfigError(
      `refresh: ${REFRESH_ENV.REFRESH_TIMEOUT_SECONDS} must be a positive whole number of seconds, not "${timeoutText}"`,
      [],
    );
  }
  return {
    region: read(REFRESH_ENV.AWS_REGION),
    target: { database: database!, secretArn: secretArn!, workgroupName, clusterIdentifier },
    timeoutMs: timeoutSeconds * 1000,
  };
}

/** Kept here for existing imports; it lives with the Data API adapter (import it from there). */
export { hostTarget };
