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
