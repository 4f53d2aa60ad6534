/**
 * What every function shares: the variable names, the SDK settings (region, endpoint overrides) and the
 * quarantine's place.
 *
 * Endpoint overrides (`ECOMFLOW_*_ENDPOINT`) point a client at a local stand-in (kinesalite, dynalite,
 * s3rver, the local Firehose); a client with an override also uses static dummy credentials, and S3 uses
 * path-style addressing.
 */
import { ConfigError, type Env, read } from './env.js';

/** Variables the functions read. Each function reads only what it uses (see its loader). */
export const ENV = {
  STAGE: 'STAGE',
  STREAM_NAME: 'STREAM_NAME',
  INVOICES_TABLE: 'INVOICES_TABLE',
  CUSTOMERS_TABLE: 'CUSTOMERS_TABLE',
  LAKE_DELIVERY_STREAM: 'LAKE_DELIVERY_STREAM',
  WAREHOUSE_DELIVERY_STREAM: 'WAREHOUSE_DELIVERY_STREAM',
  QUARANTINE_BUCKET: 'QUARANTINE_BUCKET',
  QUARANTINE_PREFIX: 'QUARANTINE_PREFIX',
  /** The transformer packs clean lines into Firehose records of at most this many KiB. */
  FIREHOSE_RECORD_MAX_KB: 'FIREHOSE_RECORD_MAX_KB',
  /** `first,last`: the invoice years the lake's partition projection covers (lakeProjectionYears). */
  LAKE_PROJECTION_YEARS: 'LAKE_PROJECTION_YEARS',
  AWS_REGION: 'AWS_REGION',
  ECOMFLOW_KINESIS_ENDPOINT: 'ECOMFLOW_KINESIS_ENDPOINT',
  ECOMFLOW_DYNAMODB_ENDPOINT: 'ECOMFLOW_DYNAMODB_ENDPOINT',
  ECOMFLOW_S3_ENDPOINT: 'ECOMFLOW_S3_ENDPOINT',
  ECOMFLOW_FIREHOSE_ENDPOINT: 'ECOMFLOW_FIREHOSE_ENDPOINT',
  // The batch function: the buckets it reads and writes, Redshift, and its size limits.
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
  // `ecomflow redrive --aws`, when its flags are not given: the stack outputs TransformDLQUrl and
  // IngestStreamName, and the deployed transform function's name.
  ECOMFLOW_DLQ_URL: 'ECOMFLOW_DLQ_URL',
  ECOMFLOW_STREAM_NAME: 'ECOMFLOW_STREAM_NAME',
  ECOMFLOW_TRANSFORM_FUNCTION: 'ECOMFLOW_TRANSFORM_FUNCTION',
  // The refresh function: the workgroup or cluster directly, and how long a refresh may take.
  REDSHIFT_WORKGROUP: 'REDSHIFT_WORKGROUP',
  REDSHIFT_CLUSTER_ID: 'REDSHIFT_CLUSTER_ID',
  REFRESH_TIMEOUT_SECONDS: 'REFRESH_TIMEOUT_SECONDS',
  COMPACT_MIN_AGE_SECONDS: 'COMPACT_MIN_AGE_SECONDS',
  COMPACT_TARGET_MB: 'COMPACT_TARGET_MB',
  AUDIT_BUCKET: 'AUDIT_BUCKET',
  /** The refresh function: the bucket it writes the dashboard snapshot to (the API's AUDIT_BUCKET). */
  DASHBOARD_BUCKET: 'DASHBOARD_BUCKET',
  ATHENA_WORKGROUP: 'ATHENA_WORKGROUP',
  GLUE_DATABASE: 'GLUE_DATABASE',
  DLQ_URL: 'DLQ_URL',
  // The erase function: the secret holding the key of the customer hash, and where its records go.
  ERASURE_KEY_SECRET_ARN: 'ERASURE_KEY_SECRET_ARN',
  ERASURE_RECORD_BUCKET: 'ERASURE_RECORD_BUCKET',
  /** The API: the erase function it starts for DELETE /customers/{id}; unset, the route answers 501. */
  ERASE_FUNCTION_NAME: 'ERASE_FUNCTION_NAME',
} as const;
export type EnvName = (typeof ENV)[keyof typeof ENV];

export const DEFAULT_QUARANTINE_PREFIX = 'quarantine/';
/** Region used with local endpoints when `AWS_REGION` is unset (the emulators accept any). */
export const LOCAL_REGION = 'us-east-1';
/** The account the local stand-ins put in the ARNs and ids they answer with (none is checked). */
export const LOCAL_ACCOUNT_ID = '000000000000';

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

/** The region and the endpoint overrides. @throws ConfigError when an override is not an http(s) URL */
export function awsConfig(env: Env): AwsConfig {
  const endpoints: Endpoints = {};
  const entries = [
    ['kinesis', ENV.ECOMFLOW_KINESIS_ENDPOINT],
    ['dynamodb', ENV.ECOMFLOW_DYNAMODB_ENDPOINT],
    ['s3', ENV.ECOMFLOW_S3_ENDPOINT],
    ['firehose', ENV.ECOMFLOW_FIREHOSE_ENDPOINT],
  ] as const;
  const bad: string[] = [];
  for (const [service, name] of entries) {
    const value = read(env, name);
    if (!value) continue;
    if (!/^https?:\/\/[^\s/]+/.test(value)) bad.push(`${name}=${JSON.stringify(value)}`);
    endpoints[service] = value;
  }
  if (bad.length > 0) {
    throw new ConfigError(`endpoint override must be an http(s) URL: ${bad.join(', ')}`, []);
  }
  return { region: read(env, ENV.AWS_REGION), endpoints };
}

/** The quarantine bucket with `QUARANTINE_PREFIX` normalised to end in `/` (default `quarantine/`). */
export function quarantineConfig(env: Env, bucket: string): QuarantineConfig {
  return { bucket, prefix: normalisePrefix(env[ENV.QUARANTINE_PREFIX] ?? DEFAULT_QUARANTINE_PREFIX) };
}

/** A key prefix without a leading `/` and ending in `/`, or empty. */
export function normalisePrefix(raw: string): string {
  const prefix = raw.trim().replace(/^\/+/, '');
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}
