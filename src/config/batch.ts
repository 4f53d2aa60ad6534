import { type AwsConfig, awsConfig, ENV, type QuarantineConfig, quarantineConfig } from './aws.js';
import { ConfigError, type Env, mebibytes, read, requireVars } from './env.js';
import { hostTarget, type RedshiftTarget } from './redshift.js';

/** What `src/handlers/batch.ts` needs. */
export interface BatchConfig {
  stage: string;
  aws: AwsConfig;
  /** Uploads arrive under `incoming/`; each load's records are kept under `loads/`. */
  rawBucket: string;
  lake: { bucket: string; prefix: string };
  quarantine: QuarantineConfig;
  redshift: {
    target: RedshiftTarget;
    /** The IAM role Redshift assumes to read the parts (COPY ... IAM_ROLE). */
    copyRoleArn: string;
  };
  limits: {
    rangeBytes: number;
    singlePassMaxBytes: number;
    gzipMaxBytes: number;
  };
}

export const BATCH_VARS = [
  ENV.STAGE,
  ENV.RAW_BUCKET,
  ENV.LAKE_BUCKET,
  ENV.LAKE_PREFIX,
  ENV.QUARANTINE_BUCKET,
  ENV.REDSHIFT_HOST,
  ENV.REDSHIFT_DATABASE,
  ENV.REDSHIFT_SECRET_ARN,
  ENV.REDSHIFT_COPY_ROLE_ARN,
] as const;

/** Defaults of the batch limits, in MiB; docs/scaling.md explains them. */
export const BATCH_LIMIT_DEFAULTS_MB = { range: 128, singlePassMax: 1536, gzipMax: 256 } as const;

/**
 * The batch function's configuration. The workgroup (serverless) or cluster (provisioned) is the first
 * label of `REDSHIFT_HOST`, the endpoint the stack already has for Firehose.
 * @throws ConfigError naming every missing or malformed variable
 */
export function loadBatchConfig(env: Env): BatchConfig {
  const v = requireVars(env, BATCH_VARS, 'batch');
  const host = hostTarget(v.REDSHIFT_HOST);
  if (!host.workgroupName && !host.clusterIdentifier) {
    throw new ConfigError(
      `batch: ${ENV.REDSHIFT_HOST}=${JSON.stringify(v.REDSHIFT_HOST)} is not a Redshift endpoint ` +
        '(<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com or <cluster>.<id>.<region>.redshift.amazonaws.com)',
      [ENV.REDSHIFT_HOST],
    );
  }
  const prefix = v.LAKE_PREFIX.replace(/^\/+/, '');
  return {
    stage: v.STAGE,
    aws: awsConfig(env),
    rawBucket: v.RAW_BUCKET,
    lake: { bucket: v.LAKE_BUCKET, prefix: prefix.endsWith('/') ? prefix : `${prefix}/` },
    quarantine: quarantineConfig(env, v.QUARANTINE_BUCKET),
    redshift: {
      target: {
        database: v.REDSHIFT_DATABASE,
        secretArn: v.REDSHIFT_SECRET_ARN,
        workgroupName: host.workgroupName,
        clusterIdentifier: host.clusterIdentifier,
      },
      copyRoleArn: v.REDSHIFT_COPY_ROLE_ARN,
    },
    limits: {
      rangeBytes: mebibytes(env, ENV.BATCH_RANGE_MB, BATCH_LIMIT_DEFAULTS_MB.range),
      singlePassMaxBytes: mebibytes(env, ENV.BATCH_SINGLE_PASS_MAX_MB, BATCH_LIMIT_DEFAULTS_MB.singlePassMax),
      gzipMaxBytes: mebibytes(env, ENV.BATCH_GZIP_MAX_MB, BATCH_LIMIT_DEFAULTS_MB.gzipMax),
    },
  };
}

/** What `ecomflow load --target aws` needs: where to upload, and the SDK settings. */
export interface RemoteLoadConfig {
  aws: AwsConfig;
  rawBucket: string;
}

/**
 * `ecomflow load --target aws`'s configuration: the bucket from `--bucket` or `ECOMFLOW_RAW_BUCKET`;
 * credentials and region as the AWS SDK finds them (`AWS_PROFILE`, `AWS_REGION`, ...).
 * @throws ConfigError when no bucket is given
 */
export function loadRemoteLoadConfig(bucket: string | undefined, env: Env = process.env): RemoteLoadConfig {
  const rawBucket = bucket?.trim() || read(env, ENV.ECOMFLOW_RAW_BUCKET);
  if (!rawBucket) {
    throw new ConfigError(
      `--target aws needs the stack's raw bucket: pass --bucket <name> or set ${ENV.ECOMFLOW_RAW_BUCKET} ` +
        '(the stack output RawBucketName)',
      [ENV.ECOMFLOW_RAW_BUCKET],
    );
  }
  return { aws: awsConfig(env), rawBucket };
}
