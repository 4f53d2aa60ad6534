/**
 * The service's configuration: the environment, read once, validated and typed.
 *
 * Each Lambda function reads only what it uses, so each function's environment (and its IAM role) can stay
 * minimal: the API needs the stream, the tables and the quarantine; the transformer needs the tables, the
 * Firehose streams and the quarantine. A missing variable fails the first invocation with a message that
 * names every missing variable at once.
 *
 * Endpoint overrides (`ECOMFLOW_*_ENDPOINT`) point a client at a local stand-in (kinesalite, dynalite,
 * s3rver, the local Firehose); a client with an override also uses static dummy credentials, and S3 uses
 * path-style addressing.
 */

import type { RedshiftTarget } from './adapters/redshift-data.js';
import { hostTarget } from './analytics/refresh-config.js';

/** Variables every function reads. */
export const ENV = {
  STAGE: 'STAGE',
  STREAM_NAME: 'STREAM_NAME',
  INVOICES_TABLE: 'INVOICES_TABLE',
  CUSTOMERS_TABLE: 'CUSTOMERS_TABLE',
  LAKE_DELIVERY_STREAM: 'LAKE_DELIVERY_STREAM',
  WAREHOUSE_DELIVERY_STREAM: 'WAREHOUSE_DELIVERY_STREAM',
  QUARANTINE_BUCKET: 'QUARANTINE_BUCKET',
  QUARANTINE_PREFIX: 'QUARANTINE_PREFIX',
  AWS_REGION: 'AWS_REGION',
  ECOMFLOW_KINESIS_ENDPOINT: 'ECOMFLOW_KINESIS_ENDPOINT',
  ECOMFLOW_DYNAMODB_ENDPOINT: 'ECOMFLOW_DYNAMODB_ENDPOINT',
  ECOMFLOW_S3_ENDPOINT: 'ECOMFLOW_S3_ENDPOINT',
  ECOMFLOW_FIREHOSE_ENDPOINT: 'ECOMFLOW_FIREHOSE_ENDPOINT',
  // The batch function (issue 5): the buckets it reads and writes, Redshift, and its size limits.
  RAW_BUCKET: 'RAW_BUCKET',
  LAKE_BUCKET: 'LAKE_BUCKET',
  LAKE_PREFIX: 'LAKE_PREFIX',
  REDSHIFT_HOST: 'REDSHIFT_HOST',
  REDSHIFT_DATABASE: 'REDSHIFT_DATABASE',
  REDSHIFT_SECRET_ARN: 'REDSHIFT_SECRET_ARN',
  REDSHIFT_COPY_ROLE_ARN: 'REDSHIFT_COPY_ROLE_ARN',
  BATCH_RANGE_MB: 'BATCH_RANGE_MB',
  BATCH_SINGLE_PASS_MAX_MB: 'BATCH_SINGLE_PASS_MAX_MB',
  BATCH_GZIP_MAX_MB: 'BATCH_GZIP_MAX_MB',
  /** `ecomflow load --target aws`: the raw bucket, when `--bucket` is not given. */
  ECOMFLOW_RAW_BUCKET: 'ECOMFLOW_RAW_BUCKET',
} as const;
export type EnvName = (typeof ENV)[keyof typeof ENV];

export const DEFAULT_QUARANTINE_PREFIX = 'quarantine/';
/** Region used with local endpoints when `AWS_REGION` is unset (the emulators accept any). */
export const LOCAL_REGION = 'us-east-1';

export type Env = Readonly<Record<string, string | undefined>>;

/** Endpoint overrides for local stand-ins; absent means the real AWS endpoint. */
export interface Endpoints {
  kinesis?: string;
  dynamodb?: string;
  s3?: string;
  firehose?: string;
}

export interface AwsConfig {
  /** `AWS_REGION` (Lambda sets it); undefined lets the SDK resolve it. */
  region: string | undefined;
  endpoints: Endpoints;
}

export interface QuarantineConfig {
  bucket: string;
  /** Key prefix, always ending in `/` (or empty). */
  prefix: string;
}

export interface TablesConfig {
  invoices: string;
  customers: string;
}

/** What `src/handlers/api.ts` needs. */
export interface ApiConfig {
  stage: string;
  aws: AwsConfig;
  streamName: string;
  tables: TablesConfig;
  quarantine: QuarantineConfig;
}

/** What `src/handlers/transform.ts` needs. */
export interface TransformConfig {
  stage: string;
  aws: AwsConfig;
  tables: TablesConfig;
  deliveryStreams: { lake: string; warehouse: string };
  quarantine: QuarantineConfig;
}

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

/** Everything: what the local stack needs to run both functions. */
export type Config = ApiConfig & TransformConfig;

/** Thrown when required variables are missing or malformed. `missing` names them. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  readonly missing: readonly string[];
  constructor(message: string, missing: readonly string[]) {
    super(message);
    this.name = 'ConfigError';
    this.missing = missing;
  }
}

const API_VARS = [
  ENV.STAGE,
  ENV.STREAM_NAME,
  ENV.INVOICES_TABLE,
  ENV.CUSTOMERS_TABLE,
  ENV.QUARANTINE_BUCKET,
] as const;
const TRANSFORM_VARS = [
  ENV.STAGE,
  ENV.INVOICES_TABLE,
  ENV.CUSTOMERS_TABLE,
  ENV.LAKE_DELIVERY_STREAM,
  ENV.WAREHOUSE_DELIVERY_STREAM,
  ENV.QUARANTINE_BUCKET,
] as const;

/**
 * The API function's configuration.
 * @throws ConfigError naming every missing variable
 * @example loadApiConfig({ STAGE: 'dev', STREAM_NAME: 's', INVOICES_TABLE: 'i', CUSTOMERS_TABLE: 'c', QUARANTINE_BUCKET: 'q' })
 */
export function loadApiConfig(env: Env = process.env): ApiConfig {
  const v = requireVars(env, API_VARS, 'api');
  return {
    stage: v.STAGE,
    aws: awsConfig(env),
    streamName: v.STREAM_NAME,
    tables: { invoices: v.INVOICES_TABLE, customers: v.CUSTOMERS_TABLE },
    quarantine: quarantineConfig(env, v.QUARANTINE_BUCKET),
  };
}

/**
 * The transform function's configuration.
 * @throws ConfigError naming every missing variable
 */
export function loadTransformConfig(env: Env = process.env): TransformConfig {
  const v = requireVars(env, TRANSFORM_VARS, 'transform');
  return {
    stage: v.STAGE,
    aws: awsConfig(env),
    tables: { invoices: v.INVOICES_TABLE, customers: v.CUSTOMERS_TABLE },
    deliveryStreams: { lake: v.LAKE_DELIVERY_STREAM, warehouse: v.WAREHOUSE_DELIVERY_STREAM },
    quarantine: quarantineConfig(env, v.QUARANTINE_BUCKET),
  };
}

const BATCH_VARS = [
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
export function loadBatchConfig(env: Env = process.env): BatchConfig {
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
  const rawBucket = bucket?.trim() || env[ENV.ECOMFLOW_RAW_BUCKET]?.trim();
  if (!rawBucket) {
    throw new ConfigError(
      `--target aws needs the stack's raw bucket: pass --bucket <name> or set ${ENV.ECOMFLOW_RAW_BUCKET} ` +
        '(the stack output RawBucketName)',
      [ENV.ECOMFLOW_RAW_BUCKET],
    );
  }
  return { aws: awsConfig(env), rawBucket };
}

/** An optional size in MiB (fractions allowed, for tests), as bytes. */
function mebibytes(env: Env, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback * (1 << 20);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number of MiB, not ${JSON.stringify(text)}`, [name]);
  }
  return Math.round(value * (1 << 20));
}

/**
 * The whole configuration, as the local stack needs it.
 * @throws ConfigError naming every missing variable
 */
export function loadConfig(env: Env = process.env): Config {
  requireVars(env, [...new Set([...API_VARS, ...TRANSFORM_VARS])], 'ecomflow');
  return { ...loadApiConfig(env), ...loadTransformConfig(env) };
}

/**
 * A lazily computed value, computed on first use and then kept: how handlers read configuration and
 * create clients once per container without doing it at import time (tests set the env first).
 */
export function once<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    if (!value) value = { v: make() };
    return value.v;
  };
}

function requireVars<const K extends string>(env: Env, names: readonly K[], who: string): Record<K, string> {
  const out = {} as Record<K, string>;
  const missing: K[] = [];
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) out[name] = value;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `${who}: missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      missing,
    );
  }
  return out;
}

function awsConfig(env: Env): AwsConfig {
  const endpoints: Endpoints = {};
  const entries = [
    ['kinesis', ENV.ECOMFLOW_KINESIS_ENDPOINT],
    ['dynamodb', ENV.ECOMFLOW_DYNAMODB_ENDPOINT],
    ['s3', ENV.ECOMFLOW_S3_ENDPOINT],
    ['firehose', ENV.ECOMFLOW_FIREHOSE_ENDPOINT],
  ] as const;
  const bad: string[] = [];
  for (const [service, name] of entries) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (!/^https?:\/\/[^\s/]+/.test(value)) bad.push(`${name}=${JSON.stringify(value)}`);
    endpoints[service] = value;
  }
  if (bad.length > 0) {
    throw new ConfigError(`endpoint override must be an http(s) URL: ${bad.join(', ')}`, []);
  }
  const region = env[ENV.AWS_REGION]?.trim() || undefined;
  return { region, endpoints };
}

function quarantineConfig(env: Env, bucket: string): QuarantineConfig {
  const raw = env[ENV.QUARANTINE_PREFIX];
  let prefix = raw === undefined ? DEFAULT_QUARANTINE_PREFIX : raw.trim().replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  return { bucket, prefix };
}
